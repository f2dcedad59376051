extension IPAddress {
    /// Parses numeric text: `192.0.2.7`, `2001:db8::1`, `::ffff:192.0.2.7`, `64:ff9b::192.0.2.33`;
    /// nil for anything else (host names, brackets, zones, prefixes). IPv4 parts with leading
    /// zeros (`010.0.0.1`) are refused: some resolvers read them as octal.
    public init?(_ text: String) {
        if let value = Self.parseIPv4(Substring(text)) {
            self.init(ipv4: value)
            return
        }
        guard let (high, low) = Self.parseIPv6(Substring(text)) else { return nil }
        self.init(ipv6High: high, low: low)
    }

    /// A host as a socket or a log spells it: as `init(_:)`, except that the zone of a scoped
    /// IPv6 address is dropped (`fe80::1%eth0` → `fe80::1`).
    public init?(host: String) {
        if let zone = host.firstIndex(of: "%"), host.contains(":") {
            self.init(String(host[..<zone]))
        } else {
            self.init(host)
        }
    }

    static func parseIPv4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.utf8.count), part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                part.utf8.count == 1 || part.utf8.first != 0x30, let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    static func parseIPv6(_ text: Substring) -> (UInt64, UInt64)? {
        guard text.contains(":") else { return nil }
        let halves = splitAtDoubleColon(text)
        guard halves.count <= 2 else { return nil }
        var all: [UInt16]
        if halves.count == 2 {
            guard let head = groups(halves[0], allowIPv4Tail: false), let tail = groups(halves[1], allowIPv4Tail: true),
                head.count + tail.count <= 7
            else { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let only = groups(halves[0], allowIPv4Tail: true), only.count == 8 else { return nil }
            all = only
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, group) in all.enumerated() {
            if index < 4 { high = high << 16 | UInt64(group) } else { low = low << 16 | UInt64(group) }
        }
        return (high, low)
    }

    /// `2001:db8` → two groups; the last one may be a dotted IPv4 address (two groups).
    private static func groups(_ part: Substring, allowIPv4Tail: Bool) -> [UInt16]? {
        if part.isEmpty { return [] }
        var result: [UInt16] = []
        let fields = part.split(separator: ":", omittingEmptySubsequences: false)
        for (index, field) in fields.enumerated() {
            if allowIPv4Tail, index == fields.count - 1, field.contains(".") {
                guard let v4 = parseIPv4(field) else { return nil }
                result.append(UInt16(v4 >> 16))
                result.append(UInt16(v4 & 0xFFFF))
                continue
            }
            guard (1...4).contains(field.utf8.count), field.utf8.allSatisfy(\.isHexDigit), let group = UInt16(field, radix: 16)
            else { return nil }
            result.append(group)
        }
        return result.count <= 8 ? result : nil
    }

    /// Splits at each `::` (the IPv6 zero run).
    private static func splitAtDoubleColon(_ text: Substring) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(after: index)
            if text[index] == ":", next < text.endIndex, text[next] == ":" {
                parts.append(text[start..<index])
                start = text.index(after: next)
                index = start
                continue
            }
            index = next
        }
        parts.append(text[start..<text.endIndex])
        return parts
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}
