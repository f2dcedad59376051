/// A numeric IPv4 or IPv6 address, as the engine reports clients (`Endpoint.host`) and as rule
/// files write them in `client:` CIDRs.
///
///     IPAddress("192.0.2.1")            // 4 bytes
///     IPAddress("2001:db8::1")          // 16 bytes
///     IPAddress("::ffff:192.0.2.1")     // 16 bytes; `unmappedIPv4` is 192.0.2.1
///     IPAddress("fe80::1%eth0")         // the zone is ignored
///     IPAddress("mx.example.org")       // nil: not an address
///
/// IPv4 parts with leading zeros (`010.0.0.1`) are refused: some resolvers read them as octal.
/// `description` is the canonical text form (RFC 5952 for IPv6).
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, in network order.
    public let bytes: [UInt8]

    public var isIPv4: Bool { bytes.count == 4 }

    public init?(_ text: String) {
        var text = Substring(text)
        if let zone = text.firstIndex(of: "%"), text.contains(":") {
            text = text[..<zone]
        }
        if let v4 = Self.parseIPv4(text) {
            bytes = v4
        } else if let v6 = Self.parseIPv6(text) {
            bytes = v6
        } else {
            return nil
        }
    }

    init(bytes: [UInt8]) {
        precondition(bytes.count == 4 || bytes.count == 16)
        self.bytes = bytes
    }

    /// `192.0.2.1` for `::ffff:192.0.2.1` (RFC 4291 §2.5.5.2), nil for any other address.
    public var unmappedIPv4: IPAddress? {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF
        else { return nil }
        return IPAddress(bytes: Array(bytes[12...]))
    }

    /// `::ffff:192.0.2.1` for `192.0.2.1`, nil for an IPv6 address.
    public var ipv4Mapped: IPAddress? {
        guard isIPv4 else { return nil }
        return IPAddress(bytes: Array(repeating: 0, count: 10) + [0xFF, 0xFF] + bytes)
    }

    public var description: String {
        if isIPv4 {
            return bytes.map(String.init).joined(separator: ".")
        }
        if let v4 = unmappedIPv4 {
            return "::ffff:\(v4)"
        }
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        // RFC 5952 §4.2: compress the longest run (first if tied) of two or more zero groups.
        var best: Range<Int>?
        var index = 0
        while index < groups.count {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            let start = index
            while index < groups.count, groups[index] == 0 { index += 1 }
            if index - start >= 2, index - start > (best?.count ?? 0) { best = start..<index }
        }
        let hex = { (range: Range<Int>) in groups[range].map { String($0, radix: 16) }.joined(separator: ":") }
        guard let best else { return hex(0..<8) }
        return hex(0..<best.lowerBound) + "::" + hex(best.upperBound..<8)
    }

    // MARK: - Parsing

    private static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.utf8.count), part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                part.utf8.count == 1 || part.utf8.first != 0x30, let value = UInt8(part)
            else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    private static func parseIPv6(_ text: Substring) -> [UInt8]? {
        let halves = text.split(separator: "::", maxSplits: 2, omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return nil }
        guard let head = parseGroups(halves[0], allowIPv4Tail: halves.count == 1) else { return nil }
        if halves.count == 1 {
            return head.count == 16 ? head : nil
        }
        guard let tail = parseGroups(halves[1], allowIPv4Tail: true), head.count + tail.count <= 14 else {
            return nil
        }
        return head + Array(repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    /// `2001:db8` → 4 bytes; the last group may be a dotted IPv4 address (4 bytes).
    private static func parseGroups(_ text: Substring, allowIPv4Tail: Bool) -> [UInt8]? {
        guard !text.isEmpty else { return [] }
        let groups = text.split(separator: ":", omittingEmptySubsequences: false)
        var bytes: [UInt8] = []
        for (index, group) in groups.enumerated() {
            if index == groups.count - 1, allowIPv4Tail, group.contains(".") {
                guard let v4 = parseIPv4(group) else { return nil }
                bytes += v4
            } else {
                guard (1...4).contains(group.utf8.count), group.utf8.allSatisfy(\.isHexDigit),
                    let value = UInt16(group, radix: 16)
                else { return nil }
                bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
        }
        return bytes.count <= 16 ? bytes : nil
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}
