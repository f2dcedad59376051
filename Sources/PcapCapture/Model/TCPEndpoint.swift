import IPAddressing

/// One end of a TCP connection: an address and a port.
///
///     TCPEndpoint(address: IPAddress("2001:db8::1")!, port: 25).description   // "[2001:db8::1]:25"
public struct TCPEndpoint: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// The address as text (no brackets): `192.0.2.1`, `2001:db8::1`.
    public var host: String { address.description }

    public var description: String {
        address.family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// An arbitrary but stable order, used to give each connection one key for both directions.
    public static func < (lhs: TCPEndpoint, rhs: TCPEndpoint) -> Bool {
        (lhs.address, lhs.port) < (rhs.address, rhs.port)
    }
}
