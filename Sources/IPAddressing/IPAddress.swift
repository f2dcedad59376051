/// An IPv4 or IPv6 address as a small value: the one address type of rule files (`client:`),
/// the PROXY protocol (`--proxy-protocol-from`), the engine's endpoints and pcap decoding. Two
/// words, no heap: packets and sockets hand in bytes, not text.
///
///     IPAddress("192.0.2.7")?.description           // "192.0.2.7"
///     IPAddress("2001:DB8:0:0::1")?.description     // "2001:db8::1" (RFC 5952 form)
///     IPAddress("::ffff:192.0.2.1")?.unmappedIPv4   // 192.0.2.1
///     IPAddress(ipv4: 0xC000_0207)                  // 192.0.2.7
///     IPAddress(bytes: [192, 0, 2, 7])              // from 4 or 16 network-order bytes
public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public enum Family: UInt8, Hashable, Sendable {
        case ipv4 = 4
        case ipv6 = 6
    }

    public let family: Family
    /// IPv6: the first 8 bytes, big-endian. IPv4: 0.
    let high: UInt64
    /// IPv6: the last 8 bytes, big-endian. IPv4: the address in the low 32 bits.
    let low: UInt64

    public init(ipv4 value: UInt32) {
        family = .ipv4
        high = 0
        low = UInt64(value)
    }

    /// An IPv6 address from its two big-endian halves.
    public init(ipv6High high: UInt64, low: UInt64) {
        family = .ipv6
        self.high = high
        self.low = low
    }

    /// From 4 or 16 network-order bytes; nil for other lengths.
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4:
            self.init(ipv4: bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        case 16:
            var high: UInt64 = 0
            var low: UInt64 = 0
            for (index, byte) in bytes.enumerated() {
                if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
            }
            self.init(ipv6High: high, low: low)
        default:
            return nil
        }
    }

    public var isIPv4: Bool { family == .ipv4 }

    /// IPv4 before IPv6, then by value.
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        (lhs.family.rawValue, lhs.high, lhs.low) < (rhs.family.rawValue, rhs.high, rhs.low)
    }

    /// The IPv4 address as a number (nil for IPv6).
    public var ipv4Value: UInt32? { family == .ipv4 ? UInt32(truncatingIfNeeded: low) : nil }

    /// 4 or 16 bytes in network order.
    public var bytes: [UInt8] {
        switch family {
        case .ipv4:
            let value = UInt32(truncatingIfNeeded: low)
            return [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        case .ipv6:
            return (0..<16).map { index in
                let word = index < 8 ? high : low
                return UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64(index % 8)))
            }
        }
    }

    /// `192.0.2.1` for `::ffff:192.0.2.1` (RFC 4291 §2.5.5.2), nil for any other address.
    public var unmappedIPv4: IPAddress? {
        guard family == .ipv6, high == 0, low >> 32 == 0xFFFF else { return nil }
        return IPAddress(ipv4: UInt32(truncatingIfNeeded: low))
    }

    /// `::ffff:192.0.2.1` for `192.0.2.1`, nil for an IPv6 address.
    public var ipv4Mapped: IPAddress? {
        guard family == .ipv4 else { return nil }
        return IPAddress(ipv6High: 0, low: 0xFFFF << 32 | low)
    }

    /// The first `length` bits kept, the rest zero (a CIDR block's network).
    func masked(to length: Int) -> IPAddress {
        switch family {
        case .ipv4:
            let mask: UInt64 = length <= 0 ? 0 : (0xFFFF_FFFF << (32 - min(length, 32))) & 0xFFFF_FFFF
            return IPAddress(ipv4: UInt32(truncatingIfNeeded: low & mask))
        case .ipv6:
            // Swift's `<<` gives 0 for a shift by 64 or more.
            let highMask: UInt64 = length <= 0 ? 0 : ~UInt64(0) << (64 - min(length, 64))
            let lowMask: UInt64 = length <= 64 ? 0 : ~UInt64(0) << (128 - min(length, 128))
            return IPAddress(ipv6High: high & highMask, low: low & lowMask)
        }
    }

    /// Dotted quad for IPv4; RFC 5952 text for IPv6 (lower case, longest zero run as `::`,
    /// `::ffff:a.b.c.d` for IPv4-mapped addresses).
    public var description: String {
        switch family {
        case .ipv4:
            return Self.dotted(UInt32(truncatingIfNeeded: low))
        case .ipv6:
            return ipv6Text
        }
    }

    private static func dotted(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    private var ipv6Text: String {
        if high == 0, low >> 32 == 0xFFFF {
            return "::ffff:" + Self.dotted(UInt32(truncatingIfNeeded: low))
        }
        let groups: [UInt16] = (0..<8).map { index in
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> (48 - 16 * UInt64(index % 4)))
        }
        // RFC 5952 §4.2: the longest run of at least two zero groups (the first one on a tie).
        var bestStart = -1
        var bestLength = 1
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            var end = index
            while end < 8 && groups[end] == 0 { end += 1 }
            if end - index > bestLength {
                bestStart = index
                bestLength = end - index
            }
            index = end
        }
        var text = ""
        index = 0
        while index < 8 {
            if index == bestStart {
                text += "::"
                index += bestLength
                continue
            }
            if !text.isEmpty && !text.hasSuffix(":") { text += ":" }
            text += String(groups[index], radix: 16)
            index += 1
        }
        return text
    }
}
