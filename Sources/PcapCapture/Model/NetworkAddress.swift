/// An IPv4 or IPv6 address as a small value (no String on the packet path).
///
///     NetworkAddress("192.0.2.7")?.description        // "192.0.2.7"
///     NetworkAddress("2001:DB8:0:0::1")?.description  // "2001:db8::1" (RFC 5952 form)
///     NetworkAddress(ipv4: 0xC000_0207)                // 192.0.2.7
public struct NetworkAddress: Hashable, Sendable, CustomStringConvertible {
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
        // The longest run of at least two zero groups (the first one on a tie).
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
