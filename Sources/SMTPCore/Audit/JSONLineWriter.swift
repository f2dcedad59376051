/// Writes JSON objects field by field as UTF-8 bytes, escaping per RFC 8259. No Foundation.
/// The audit log and the other JSON-lines outputs (replay's resend report) share it.
///
/// Bytes, not a String: the live proxy encodes every command and reply it logs, and appending
/// to a byte array costs a fraction of String appends (no grapheme or ASCII bookkeeping). The
/// proxy's audit writer encodes a whole batch of events into one array (`AuditEvent.appendJSONLine`).
public struct JSONLineWriter: Sendable {
    var bytes: [UInt8]
    private var first = true

    public init() {
        bytes = []
        bytes.reserveCapacity(192)
        bytes.append(UInt8(ascii: "{"))
    }

    /// Continues `buffer`: the object's bytes go after what it holds (`finish(into:)` hands it back).
    init(continuing buffer: inout [UInt8]) {
        bytes = []
        swap(&bytes, &buffer)
        bytes.append(UInt8(ascii: "{"))
    }

    public mutating func field(_ key: String, _ value: String?) {
        writeKey(key)
        if let value { Self.appendQuoted(value, to: &bytes) } else { Self.append("null", to: &bytes) }
    }

    public mutating func field(_ key: String, _ value: Int?) {
        writeKey(key)
        if let value { Self.appendDecimal(value, to: &bytes) } else { Self.append("null", to: &bytes) }
    }

    public mutating func field(_ key: String, _ value: Bool) {
        writeKey(key)
        Self.append(value ? "true" : "false", to: &bytes)
    }

    public mutating func field(_ key: String, _ values: [String]) {
        writeKey(key)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.appendQuoted(value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A time as an RFC 3339 string (`SMTPTimestamp.rfc3339`), formatted straight into the bytes.
    public mutating func field(_ key: String, _ time: SMTPTimestamp) {
        writeKey(key)
        bytes.append(UInt8(ascii: "\""))
        time.appendRFC3339(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// A field whose value is already JSON.
    public mutating func rawField(_ key: String, _ json: String) {
        writeKey(key)
        Self.append(json, to: &bytes)
    }

    public mutating func finish() -> String {
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Closes the object and hands the bytes back to the buffer given to `init(continuing:)`.
    mutating func finish(into buffer: inout [UInt8]) {
        bytes.append(UInt8(ascii: "}"))
        swap(&bytes, &buffer)
    }

    private mutating func writeKey(_ name: String) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        Self.appendQuoted(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    private static func append(_ text: String, to out: inout [UInt8]) {
        out.append(contentsOf: text.utf8)
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { scratch in
            repeat {
                scratch[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            out.append(contentsOf: scratch[(20 - count)...])
        }
    }

    /// Appends `value` as a JSON string. `htmlSafe` also writes `<`, `>`, `&`, U+2028 and U+2029
    /// as `\u…` escapes, so the text may sit inside an HTML `<script>` element (the audit report).
    public static func appendQuoted(_ value: String, to out: inout String, htmlSafe: Bool = false) {
        var bytes: [UInt8] = []
        appendQuoted(value, to: &bytes, htmlSafe: htmlSafe)
        out += String(decoding: bytes, as: UTF8.self)
    }

    static func appendQuoted(_ value: String, to out: inout [UInt8], htmlSafe: Bool = false) {
        out.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            if Self.needsEscape(utf8, htmlSafe: htmlSafe) {
                Self.appendEscaped(utf8, to: &out, htmlSafe: htmlSafe)
            } else {
                out.append(contentsOf: utf8)  // the common case: one scan, one copy
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func needsEscape(_ utf8: UnsafeBufferPointer<UInt8>, htmlSafe: Bool) -> Bool {
        for byte in utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F {
            return true
        }
        guard htmlSafe else { return false }
        for byte in utf8 where byte == 0x3C || byte == 0x3E || byte == 0x26 || byte == 0xE2 {
            return true
        }
        return false
    }

    /// Byte by byte: every byte of a multi-byte UTF-8 sequence is >= 0x80 and passes as is.
    private static func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>, to out: inout [UInt8], htmlSafe: Bool) {
        let hex: StaticString = "0123456789abcdef"
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            index += 1
            if htmlSafe, byte == 0xE2, index + 1 < utf8.count, utf8[index] == 0x80, utf8[index + 1] == 0xA8 || utf8[index + 1] == 0xA9 {
                append(utf8[index + 1] == 0xA8 ? "\\u2028" : "\\u2029", to: &out)
                index += 2
                continue
            }
            switch byte {
            case 0x3C where htmlSafe: append("\\u003c", to: &out)
            case 0x3E where htmlSafe: append("\\u003e", to: &out)
            case 0x26 where htmlSafe: append("\\u0026", to: &out)
            case 0x22: append("\\\"", to: &out)
            case 0x5C: append("\\\\", to: &out)
            case 0x0A: append("\\n", to: &out)
            case 0x0D: append("\\r", to: &out)
            case 0x09: append("\\t", to: &out)
            case _ where byte < 0x20 || byte == 0x7F:
                append("\\u00", to: &out)
                out.append(hex.utf8Start[Int(byte >> 4)])
                out.append(hex.utf8Start[Int(byte & 0x0F)])
            default:
                out.append(byte)
            }
        }
    }
}
