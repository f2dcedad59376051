import IPAddressing
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
        localAddresses: () -> [IPAddress] = hostAddresses
    ) -> Bool {
        guard let listener, let port = destination.port, port == listener.port,
            let address = IPAddress(destination.unmapped), let listening = IPAddress(listener.unmapped)
        else { return false }
        if address == listening { return true }
        guard listening == IPAddress(ipv4: 0) || listening == IPAddress(ipv6High: 0, low: 0) else { return false }
        let loopback = address.ipv4Value.map { $0 >> 24 == 127 } ?? (address == IPAddress(ipv6High: 0, low: 1))
        return loopback || localAddresses().contains(address)
    }

    /// This host's interface addresses (in the proxy's network namespace).
    static func hostAddresses() -> [IPAddress] {
        ((try? System.enumerateDevices()) ?? []).compactMap { $0.address.flatMap { IPAddress($0.unmapped) } }
    }
}
