/// The link-layer header type of a capture, as libpcap reports it (`DLT_*` values).
///
///     reader.linkType == .ethernet
///     LinkType(rawValue: 276).name   // "LINUX_SLL2"
///
/// libpcap translates the file's `LINKTYPE_*` value into the platform's `DLT_*`: a file written
/// with `LINKTYPE_RAW` (101) reads back as `DLT_RAW` (12 on most systems, 14 on OpenBSD); the
/// decoder accepts all three.
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// BSD loopback: a 4-byte address family in the capturing host's byte order.
    public static let null = LinkType(rawValue: 0)
    /// Ethernet II (with 802.1Q/802.1ad tags).
    public static let ethernet = LinkType(rawValue: 1)
    /// Raw IP (`DLT_RAW` on Linux, macOS, FreeBSD…).
    public static let raw = LinkType(rawValue: 12)
    /// Raw IP as OpenBSD numbers it.
    public static let rawOpenBSD = LinkType(rawValue: 14)
    /// `LINKTYPE_RAW`, the file-format value for raw IP.
    public static let linktypeRaw = LinkType(rawValue: 101)
    /// OpenBSD loopback: like `null`, but the address family is in network byte order.
    public static let loop = LinkType(rawValue: 108)
    /// Linux "cooked" capture v1 (`tcpdump -i any`).
    public static let linuxSLL = LinkType(rawValue: 113)
    /// Raw IPv4 only.
    public static let ipv4 = LinkType(rawValue: 228)
    /// Raw IPv6 only.
    public static let ipv6 = LinkType(rawValue: 229)
    /// Linux "cooked" capture v2.
    public static let linuxSLL2 = LinkType(rawValue: 276)

    /// The `DLT_` name without its prefix, or the number.
    public var name: String {
        switch self {
        case .null: "NULL"
        case .ethernet: "EN10MB"
        case .raw, .rawOpenBSD, .linktypeRaw: "RAW"
        case .loop: "LOOP"
        case .linuxSLL: "LINUX_SLL"
        case .ipv4: "IPV4"
        case .ipv6: "IPV6"
        case .linuxSLL2: "LINUX_SLL2"
        default: "linktype \(rawValue)"
        }
    }

    public var description: String { name }
}
