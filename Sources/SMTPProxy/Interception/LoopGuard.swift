import IPAddressing
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
        localAddresses: () throws -> [IPAddress] = hostAddresses
    ) -> Bool {
        guard let listener, let port = destination.port, port == listener.port,
            let address = IPAddress(destination.unmapped), let listening = IPAddress(listener.unmapped)
        else { return false }
        if address == listening { return true }
        guard listening == IPAddress(ipv4: 0) || listening == IPAddress(ipv6High: 0, low: 0) else { return false }
        let loopback = address.ipv4Value.map { $0 >> 24 == 127 } ?? (address == IPAddress(ipv6High: 0, low: 1))
        if loopback { return true }
        guard let local = try? localAddresses() else { return true }  // fail closed, see above
        return local.contains(address)
    }

    /// This host's interface addresses (in the proxy's network namespace).
    static func hostAddresses() throws -> [IPAddress] {
        try System.enumerateDevices().compactMap { $0.address.flatMap { IPAddress($0.unmapped) } }
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
}
