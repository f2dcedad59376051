import NIOCore

/// Recognises a connection made straight to the proxy's own listener (not intercepted): its
/// "original destination" is the listener itself, and forwarding it would make the proxy connect
/// to itself, again and again.
enum LoopGuard {
    /// Whether `destination` is `listener`: the same address and port, or, for a wildcard
    /// listener (`0.0.0.0`, `::`), the same port on one of this host's own addresses. A `TPROXY`
    /// destination (someone else's address) never is, even on the listener's port.
    static func isOwnListener(
        _ destination: SocketAddress, listener: SocketAddress?,
        localAddresses: () -> [String] = hostAddresses
    ) -> Bool {
        guard let listener, let port = destination.port, port == listener.port,
            let address = plain(destination.ipAddress), let listening = plain(listener.ipAddress)
        else { return false }
        if address == listening { return true }
        guard listening == "0.0.0.0" || listening == "::" else { return false }
        return address.hasPrefix("127.") || address == "::1" || localAddresses().contains(address)
    }

    /// This host's interface addresses (in the proxy's network namespace).
    static func hostAddresses() -> [String] {
        ((try? System.enumerateDevices()) ?? []).compactMap { plain($0.address?.ipAddress) }
    }

    /// `::ffff:10.0.0.1` (an IPv4 client of an IPv6 socket) as `10.0.0.1`.
    static func plain(_ address: String?) -> String? {
        guard let address else { return nil }
        let mapped = "::ffff:"
        if address.lowercased().hasPrefix(mapped), address.contains(".") { return String(address.dropFirst(mapped.count)) }
        return address
    }
}
