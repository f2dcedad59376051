/// Text made safe to show: control characters become their Unicode pictures (`␀`, `␍`), so
/// binary that reached a command line (TLS after a stripped STARTTLS, a scanner's junk) stays
/// visible without breaking the page, and long values are cut with `…`.
enum DisplayText {
    static func clean(_ text: String, limit: Int = 240) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit {
                out += "…"
                break
            }
            switch scalar.value {
            case 0..<0x20: out.unicodeScalars.append(Unicode.Scalar(0x2400 + scalar.value) ?? "?")
            case 0x7F: out += "\u{2421}"
            case 0x2028, 0x2029: out += " "
            default: out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }

    /// For HTML text and attribute values.
    static func html(_ text: String, limit: Int = 240) -> String {
        var out = ""
        for character in clean(text, limit: limit) {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// `1.2 MB`, `830 B`.
    static func bytes(_ count: Int) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : "\(Double(Int(value * 10)) / 10) \(units[unit])"
    }
}
