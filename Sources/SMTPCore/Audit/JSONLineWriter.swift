/// Writes JSON objects field by field into a String, escaping per RFC 8259. No Foundation.
/// The audit log and the other JSON-lines outputs (replay's resend report) share it.
public struct JSONLineWriter: Sendable {
    private(set) var text = "{"
    private var first = true

    public init() {
        text.reserveCapacity(160)
    }

    public mutating func field(_ key: String, _ value: String?) {
        writeKey(key)
        if let value { Self.appendQuoted(value, to: &text) } else { text += "null" }
    }

    public mutating func field(_ key: String, _ value: Int?) {
        writeKey(key)
        text += value.map(String.init) ?? "null"
    }

    public mutating func field(_ key: String, _ value: Bool) {
        writeKey(key)
        text += value ? "true" : "false"
    }

    public mutating func field(_ key: String, _ values: [String]) {
        writeKey(key)
        text += "["
        for (index, value) in values.enumerated() {
            if index > 0 { text += "," }
            Self.appendQuoted(value, to: &text)
        }
        text += "]"
    }

    /// A field whose value is already JSON.
    public mutating func rawField(_ key: String, _ json: String) {
        writeKey(key)
        text += json
    }

    public mutating func finish() -> String {
        text += "}"
        return text
    }

    private mutating func writeKey(_ name: String) {
        if !first { text += "," }
        first = false
        Self.appendQuoted(name, to: &text)
        text += ":"
    }

    /// Appends `value` as a JSON string. `htmlSafe` also writes `<`, `>`, `&`, U+2028 and U+2029
    /// as `\u…` escapes, so the text may sit inside an HTML `<script>` element (the audit report).
    public static func appendQuoted(_ value: String, to out: inout String, htmlSafe: Bool = false) {
        out += "\""
        var needsEscape = false
        for byte in value.utf8
        where byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F
            || (htmlSafe && (byte == 0x3C || byte == 0x3E || byte == 0x26 || byte == 0xE2)) {
            needsEscape = true
            break
        }
        if !needsEscape {
            out += value
        } else {
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case _ where scalar.value < 0x20 || scalar.value == 0x7F
                    || (htmlSafe && ["<", ">", "&", "\u{2028}", "\u{2029}"].contains(scalar)):
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default:
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
