import NIOCore

/// What a PROXY protocol header says about a connection (v1 or v2).
///
/// `source` and `destination` are both set (the client and the address it connected to, as the
/// load balancer saw them) or both nil: a v1 `UNKNOWN` line, a v2 `LOCAL` command (the balancer's
/// own connection, e.g. a health check) or a v2 address family without IP addresses (`AF_UNSPEC`,
/// `AF_UNIX`). When they are nil the receiver keeps the socket's own addresses.
public struct ProxyHeader: Hashable, Sendable, CustomStringConvertible {
    public enum Command: Hashable, Sendable {
        /// The connection is relayed for a client (v1 always; v2 command 0x1).
        case proxy
        /// The balancer speaks for itself (v2 command 0x0): addresses are ignored.
        case local
    }

    public var version: ProxyProtocolVersion
    public var command: Command
    public private(set) var source: SocketAddress?
    public private(set) var destination: SocketAddress?

    /// A relayed connection between two addresses.
    public init(version: ProxyProtocolVersion, source: SocketAddress, destination: SocketAddress) {
        self.version = version
        command = .proxy
        self.source = source
        self.destination = destination
    }

    /// A header without addresses: `UNKNOWN`/`AF_UNSPEC` (`.proxy`) or `LOCAL`.
    public init(version: ProxyProtocolVersion, command: Command) {
        self.version = version
        self.command = command
    }

    public var description: String {
        guard let source, let destination else {
            return "PROXY \(version) \(command == .local ? "LOCAL" : "UNKNOWN")"
        }
        return "PROXY \(version) \(source) -> \(destination)"
    }
}
