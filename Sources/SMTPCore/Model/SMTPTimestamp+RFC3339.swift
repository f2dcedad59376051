extension SMTPTimestamp {
    /// `2026-11-29T08:18:58.123456Z` (microsecond precision, always UTC).
    public var rfc3339: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        appendRFC3339(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads RFC 3339 text (`2026-11-29T09:25:57.512423Z`, `…T10:25:57+01:00`; `t`/space for `T`,
    /// `z` for `Z`; any number of fraction digits, kept to the nanosecond); nil when it is not one.
    /// No Foundation date formatter: the report reads hundreds of thousands of them.
    public init?(rfc3339 text: some StringProtocol) {
        guard let parsed = Self.parseRFC3339(Array(text.utf8)) else { return nil }
        self = parsed
    }

    /// Appends `rfc3339`'s bytes to `out` (the audit log formats one per event).
    public func appendRFC3339(to out: inout [UInt8]) {
        let (date, secondOfDay) = CivilDate.split(secondsSinceEpoch: seconds)
        let micros = Int(nanoseconds) / 1_000
        guard (0...9999).contains(date.year), (0..<1_000_000).contains(micros) else {
            Self.appendAnyYear(date, secondOfDay: secondOfDay, micros: micros, to: &out)
            return
        }
        // The common case: a fixed 27-byte layout written into a stack buffer, appended once.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 27) { buffer in
            func digits(_ value: Int, _ count: Int, at start: Int) {
                var rest = value
                for index in stride(from: start + count - 1, through: start, by: -1) {
                    buffer[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                    rest /= 10
                }
            }
            digits(date.year, 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            digits(date.month, 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            digits(date.day, 2, at: 8)
            buffer[10] = UInt8(ascii: "T")
            digits(secondOfDay / 3600, 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            digits(secondOfDay / 60 % 60, 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            digits(secondOfDay % 60, 2, at: 17)
            buffer[19] = UInt8(ascii: ".")
            digits(micros, 6, at: 20)
            buffer[26] = UInt8(ascii: "Z")
            out.append(contentsOf: UnsafeBufferPointer(buffer))
        }
    }

    /// `appendRFC3339` for years outside 0…9999 (a hostile capture can carry any timestamp).
    private static func appendAnyYear(_ date: CivilDate, secondOfDay: Int, micros: Int, to out: inout [UInt8]) {
        append(date.year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        append(date.month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        append(date.day, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        append(secondOfDay / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        append(secondOfDay / 60 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        append(secondOfDay % 60, width: 2, to: &out)
        out.append(UInt8(ascii: "."))
        append(micros, width: 6, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// `value` in decimal, zero-padded to `width` digits (years past 9999 get more, years before
    /// 0 a minus sign: a hostile capture can carry any timestamp).
    private static func append(_ signed: Int, width: Int, to out: inout [UInt8]) {
        if signed < 0 { out.append(UInt8(ascii: "-")) }
        let value = signed.magnitude
        var digits = 1
        var limit: UInt = 10
        while value >= limit, digits < 19 {
            digits += 1
            limit &*= 10
        }
        var divisor: UInt = 1
        for _ in 1..<max(width, digits) { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    private static func parseRFC3339(_ bytes: [UInt8]) -> SMTPTimestamp? {
        func digit(_ byte: UInt8) -> Int? { byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil }
        func number(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for index in start..<(start + count) {
                guard let digit = digit(bytes[index]) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == UInt8(ascii: " "),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
            let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var nanoseconds = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var count = 0
            while index < bytes.count, let digit = digit(bytes[index]) {
                if count < 9 { nanoseconds = nanoseconds * 10 + digit }
                count += 1
                index += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<max(count, 9) { nanoseconds *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offset = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, bytes[index + 3] == UInt8(ascii: ":"),
                let hours = number(index + 1, 2), let minutes = number(index + 4, 2)
            else { return nil }
            offset = (hours * 3600 + minutes * 60) * (bytes[index] == UInt8(ascii: "+") ? 1 : -1)
        default:
            return nil
        }
        let days = CivilDate(year: year, month: month, day: day).daysSinceEpoch
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second - offset)
        return SMTPTimestamp(seconds: seconds, nanoseconds: Int32(nanoseconds))
    }
}
