import NIOCore
import SMTPFilters

/// A block of peer addresses allowed to send PROXY headers (`--proxy-protocol-from`).
///
///     try CIDRBlock(parsing: "10.0.0.0/8")      // a network
///     try CIDRBlock(parsing: "192.0.2.7")       // one address (= /32; /128 for IPv6)
///     try CIDRBlock(parsing: "::1/128")
///
/// The text grammar, host-bit check and IPv4-mapped matching are the rule files' `CIDR` (one
/// implementation for both): an IPv4 block also contains the `::ffff:a.b.c.d` form a dual-stack
/// listener reports for IPv4 peers. This type adds matching a socket's `SocketAddress`.
public struct CIDRBlock: Hashable, Sendable, CustomStringConvertible {
    public let cidr: CIDR

    /// Parses `address[/length]`; the error is one line naming the value.
    public init(parsing text: String) throws(FilterError) {
        cidr = try CIDR(parsing: text)
    }

    /// Whether a peer's address is in the block; a Unix-socket peer never is.
    public func contains(_ address: SocketAddress) -> Bool {
        guard let text = address.ipAddress, let ip = IPAddress(text) else { return false }
        return cidr.contains(ip)
    }

    public var description: String { cidr.description }
}
