/// Why `PacketDecoder` produced no TCP segment for a packet.
public enum IgnoredPacketReason: Error, Hashable, Sendable, CustomStringConvertible {
    /// A link type the decoder does not read (see `PacketDecoder`).
    case unsupportedLinkType
    /// Not IPv4 or IPv6 (ARP, LLDP…).
    case notIP
    /// IP, but not TCP (UDP, ICMP…).
    case notTCP
    /// An IP fragment (other than a complete, unfragmented datagram): not reassembled.
    case ipFragment
    /// The capture kept too few bytes to read the headers.
    case truncated
    /// Headers that contradict themselves (bad version, lengths below the minimum…).
    case malformed

    public var description: String {
        switch self {
        case .unsupportedLinkType: "unsupported link type"
        case .notIP: "not IP"
        case .notTCP: "not TCP"
        case .ipFragment: "IP fragment"
        case .truncated: "truncated headers"
        case .malformed: "malformed headers"
        }
    }
}
