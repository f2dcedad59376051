/// RFC 3461 §4 xtext, as XCLIENT attribute values (and DSN parameters) carry text: `+`, `=` and
/// octets outside `!`…`~` become `+HH`.
public enum XText {
    public static func encode(_ value: String) -> String {
        var out = ""
        for octet in value.utf8 {
            if octet < 0x21 || octet > 0x7E || octet == UInt8(ascii: "+") || octet == UInt8(ascii: "=") {
                let hex = String(octet, radix: 16, uppercase: true)
                out += "+" + (hex.count == 1 ? "0" + hex : hex)
            } else {
                out.unicodeScalars.append(Unicode.Scalar(octet))
            }
        }
        return out
    }
}
