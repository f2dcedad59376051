import NIOCore

/// Recognises a connection made straight to the proxy's own listener (not intercepted): its
/// "original destination" is the listener itself, and forwarding it would make the proxy connect
/// to itself, again and again.
enum LoopGuard {
    /// Whether `destination` is `listener`: the same address and port, or, for a wildcard
    /// listener (`0.0.0.0`, `::`), the same port on one of this host's own addresses. A `TPROXY`
    /// destination (someone else's address) never is, even on the listener's port. When this
    /// host's addresses cannot be listed, the destination counts as the listener: refusing a
    /// session is recoverable, a proxy connecting to itself is not (the proxy checked at start
    /// that the list can be read: `checkHostAddresses()`).
    static func isOwnListener(
        _ destination: SocketAddress, listener: SocketAddress?,
        localAddresses: () throws -> [String] = hostAddresses
    ) -> Bool {
        guard let listener, let port = destination.port, port == listener.port,
            let address = plain(destination.ipAddress), let listening = plain(listener.ipAddress)
        else { return false }
        if address == listening { return true }
        guard listening == "0.0.0.0" || listening == "::" else { return false }
        if address.hasPrefix("127.") || address == "::1" { return true }
        guard let local = try? localAddresses() else { return true }  // fail closed, see above
        return local.contains(address)
    }

    /// This host's interface addresses (in the proxy's network namespace).
    static func hostAddresses() throws -> [String] {
        try System.enumerateDevices().compactMap { plain($0.address?.ipAddress) }
    }

    /// At start, with interception: the interface list must be readable, or the proxy cannot
    /// tell an intercepted connection from one made to itself.
    static func checkHostAddresses() throws(ProxyError) {
        do {
            _ = try hostAddresses()
        } catch {
            throw ProxyError.unsupported("cannot list this host's interface addresses (needed by the interception loop guard): \(error)")
        }
    }

    /// `::ffff:10.0.0.1` (an IPv4 client of an IPv6 socket) as `10.0.0.1`.
    static func plain(_ address: String?) -> String? {
        guard let address else { return nil }
        let mapped = "::ffff:"
        if address.lowercased().hasPrefix(mapped), address.contains(".") { return String(address.dropFirst(mapped.count)) }
        return address
    }
}
