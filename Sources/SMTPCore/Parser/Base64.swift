/// Strict standard base64 (RFC 4648 §4), as SASL responses use it (RFC 4954 §4): the alphabet
/// `A-Z a-z 0-9 + /`, `=` padding to a multiple of four, nothing else (no line breaks, no
/// spaces, no URL-safe alphabet).
enum Base64 {
    /// The decoded octets, or nil when `text` is not strict base64 or would decode to more than
    /// `maximumLength` octets (checked before anything is decoded).
    static func decode<Text: Collection>(_ text: Text, maximumLength: Int) -> [UInt8]? where Text.Element == UInt8 {
        let count = text.count
        guard count % 4 == 0, count / 4 * 3 <= maximumLength + 2 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(count / 4 * 3)
        var quantum: UInt32 = 0
        var filled = 0
        var padding = 0
        for octet in text {
            let value: UInt8
            if octet == UInt8(ascii: "=") {
                // Padding only at the end: at most two, and nothing but padding after it.
                padding += 1
                guard padding <= 2 else { return nil }
                value = 0
            } else {
                guard padding == 0, let decoded = Self.value(of: octet) else { return nil }
                value = decoded
            }
            quantum = quantum << 6 | UInt32(value)
            filled += 1
            if filled == 4 {
                output.append(UInt8(truncatingIfNeeded: quantum >> 16))
                output.append(UInt8(truncatingIfNeeded: quantum >> 8))
                output.append(UInt8(truncatingIfNeeded: quantum))
                quantum = 0
                filled = 0
            }
        }
        output.removeLast(padding)
        guard output.count <= maximumLength else { return nil }
        return output
    }

    private static func value(of octet: UInt8) -> UInt8? {
        switch octet {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): octet - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): octet - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): octet - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
