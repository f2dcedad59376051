/// One JSON object written field by field, escaped per RFC 8259 (the resend's report lines).
struct JSONObject {
    private(set) var text = "{"
    private var first = true

    mutating func field(_ key: String, _ value: String?) {
        self.key(key)
        if let value { Self.quote(value, into: &text) } else { text += "null" }
    }

    mutating func field(_ key: String, _ value: Int?) {
        self.key(key)
        text += value.map(String.init) ?? "null"
    }

    mutating func finish() -> String {
        text += "}"
        return text
    }

    private mutating func key(_ name: String) {
        if !first { text += "," }
        first = false
        Self.quote(name, into: &text)
        text += ":"
    }

    static func quote(_ value: String, into out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
