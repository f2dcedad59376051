/// One header field of a held message, kept as its exact bytes (continuation lines and the final
/// CRLF included) so an unedited field is forwarded byte for byte.
///
///     Subject: hello\r\n\tworld\r\n      name "Subject", value " hello\n\tworld"
public struct MessageHeaderField: Hashable, Sendable {
    /// Everything before the colon (trailing blanks removed).
    public var name: [UInt8]
    /// The whole field as it goes out: `name:value` with CRLF line ends.
    public var raw: [UInt8]

    public init(raw: [UInt8]) {
        self.raw = raw
        let colon = raw.firstIndex(of: UInt8(ascii: ":")) ?? raw.count
        var end = colon
        while end > 0 && (raw[end - 1] == UInt8(ascii: " ") || raw[end - 1] == UInt8(ascii: "\t")) { end -= 1 }
        name = Array(raw[..<end])
    }

    /// A field made from a milter's name and value (`\n` or CRLF between lines); without
    /// `leadingSpace` negotiated a space is put after the colon, as Sendmail and Postfix do.
    public init(name: [UInt8], value: [UInt8], leadingSpace: Bool) {
        var raw = name + [UInt8(ascii: ":")]
        if !leadingSpace { raw.append(UInt8(ascii: " ")) }
        for (index, byte) in value.enumerated() {
            if byte == UInt8(ascii: "\r") { continue }
            if byte == UInt8(ascii: "\n") {
                raw += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
                // A line of a folded value must start with a blank, or it would become a new field.
                if index + 1 < value.count, value[index + 1] != UInt8(ascii: " "), value[index + 1] != UInt8(ascii: "\t") {
                    raw.append(UInt8(ascii: "\t"))
                }
                continue
            }
            raw.append(byte)
        }
        raw += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
        self.init(raw: raw)
        self.name = name
    }

    /// The value as a milter receives it: after the colon, lines joined by `\n` (Sendmail's form),
    /// without the final line end, and without the one space after the colon unless
    /// `leadingSpace` was negotiated.
    public func value(leadingSpace: Bool) -> [UInt8] {
        guard var start = raw.firstIndex(of: UInt8(ascii: ":")).map({ $0 + 1 }) else { return [] }
        if !leadingSpace, start < raw.count, raw[start] == UInt8(ascii: " ") { start += 1 }
        var value: [UInt8] = []
        value.reserveCapacity(raw.count - start)
        for byte in raw[start...] where byte != UInt8(ascii: "\r") { value.append(byte) }
        while value.last == UInt8(ascii: "\n") { value.removeLast() }
        return value
    }

    /// Whether the field is called `other` (ASCII, case-insensitive).
    public func isNamed(_ other: [UInt8]) -> Bool {
        guard name.count == other.count else { return false }
        return zip(name, other).allSatisfy { Self.lower($0) == Self.lower($1) }
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }
}
