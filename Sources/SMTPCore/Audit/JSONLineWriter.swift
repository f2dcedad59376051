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

    public mutating func field(_ key: StaticString, _ value: String?) {
        writeKey(key)
        if let value { Self.appendQuoted(value, to: &bytes) } else { Self.append("null", to: &bytes) }
    }

    public mutating func field(_ key: StaticString, _ value: Int?) {
        writeKey(key)
        if let value { Self.appendDecimal(value, to: &bytes) } else { Self.append("null", to: &bytes) }
    }

    public mutating func field(_ key: StaticString, _ value: Bool) {
        writeKey(key)
        Self.append(value ? "true" : "false", to: &bytes)
    }

    public mutating func field(_ key: StaticString, _ values: [String]) {
        writeKey(key)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.appendQuoted(value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A time as an RFC 3339 string (`SMTPTimestamp.rfc3339`), formatted straight into the bytes.
    public mutating func field(_ key: StaticString, _ time: SMTPTimestamp) {
        writeKey(key)
        bytes.append(UInt8(ascii: "\""))
        time.appendRFC3339(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// A field whose value is already JSON.
    public mutating func rawField(_ key: StaticString, _ json: String) {
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

    /// A string value known at compile time (event names): written as is, without the escape scan.
    /// It must need no JSON escaping (plain ASCII letters, digits, `-`, `_`, `.`).
    public mutating func field(_ key: StaticString, literal value: StaticString) {
        writeKey(key)
        bytes.append(UInt8(ascii: "\""))
        Self.append(value, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Keys are literals in the code that need no escaping: `,"key":` is put together on the
    /// stack and appended at once, not scanned (every event writes six to nine of them).
    private mutating func writeKey(_ name: StaticString) {
        let length = name.utf8CodeUnitCount
        let comma = first ? 0 : 1
        first = false
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length + 4) { scratch in
            scratch[0] = UInt8(ascii: ",")
            scratch[comma] = UInt8(ascii: "\"")
            UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(scratch)[(comma + 1)...])
                .copyMemory(from: UnsafeRawBufferPointer(start: name.utf8Start, count: length))
            scratch[comma + 1 + length] = UInt8(ascii: "\"")
            scratch[comma + 2 + length] = UInt8(ascii: ":")
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<(comma + 3 + length)]))
        }
    }

    private static func append(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
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
        // Eight bytes at a time (the audit log scans every argument and reply text it writes).
        var index = 0
        if let base = UnsafeRawPointer(utf8.baseAddress) {
            while index + 8 <= utf8.count {
                if wordNeedsEscape(UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))) {
                    return true
                }
                index += 8
            }
        }
        while index < utf8.count {
            let byte = utf8[index]
            if byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F { return true }
            index += 1
        }
        guard htmlSafe else { return false }
        for byte in utf8 where byte == 0x3C || byte == 0x3E || byte == 0x26 || byte == 0xE2 {
            return true
        }
        return false
    }

    /// Whether any of the word's bytes is below 0x20, `"`, `\\` or DEL. The classic bit tricks
    /// ("determine if a word has a byte less than n / equal to n"): exact as a yes/no answer, and
    /// bytes >= 0x80 (UTF-8 sequences) never match.
    @inline(__always)
    static func wordNeedsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZeroByte(_ value: UInt64) -> UInt64 { (value &- ones) & ~value & highs }
        let control = (word &- ones &* 0x20) & ~word & highs
        let quote = hasZeroByte(word ^ (ones &* 0x22))
        let backslash = hasZeroByte(word ^ (ones &* 0x5C))
        let delete = hasZeroByte(word ^ (ones &* 0x7F))
        return (control | quote | backslash | delete) != 0
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
