import struct NIOCore.ByteBuffer

/// Grammar functions shared by the stream parsers. Named after the RFC 5321 ABNF rules they read.
public enum SMTPGrammar {
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let dot: UInt8 = 0x2E
    static let nul: UInt8 = 0x00

    @inline(__always)
    static func isBlank(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    /// Splits a command line (without its line end) into verb and argument.
    ///
    ///     "  mail   FROM:<a@b>  " → (MAIL, "FROM:<a@b>")
    ///     "VRFY\tpostmaster"     → (VRFY, "postmaster")
    ///
    /// Leading blanks are skipped and the verb ends at the first SP or HT, as Postfix's smtpd reads
    /// it, so a rule on a verb cannot be evaded by spacing. SeeAlso: RFC 5321 §4.1.1 (`Keyword`).
    public static func parseCommandLine(_ line: UnsafeRawBufferPointer) -> SMTPCommand {
        var index = 0
        let end = line.count
        while index < end, isBlank(line[index]) { index += 1 }
        let verbStart = index
        while index < end, !isBlank(line[index]) { index += 1 }
        let verbBytes = UnsafeRawBufferPointer(rebasing: line[verbStart..<index])
        while index < end, isBlank(line[index]) { index += 1 }
        var argumentEnd = end
        while argumentEnd > index, isBlank(line[argumentEnd - 1]) { argumentEnd -= 1 }
        let argumentBytes = UnsafeRawBufferPointer(rebasing: line[index..<argumentEnd])
        let verb = SMTPVerb(String(decoding: verbBytes, as: UTF8.self))
        return SMTPCommand(verb: verb, argument: String(decoding: argumentBytes, as: UTF8.self))
    }

    public static func parseCommandLine(_ line: ByteBuffer) -> SMTPCommand {
        line.withUnsafeReadableBytes { parseCommandLine($0) }
    }

    /// Blank-separated words of an argument.
    public static func words(_ text: String) -> [String] {
        text.utf8.split(whereSeparator: { isBlank($0) }).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Runs of SP/HT become one SP; leading and trailing blanks go.
    public static func collapsingBlanks(_ text: String) -> String {
        var needs = false
        var previousBlank = true
        for byte in text.utf8 {
            let blank = isBlank(byte)
            if blank && (previousBlank || byte == tab) { needs = true; break }
            previousBlank = blank
        }
        if !needs && !previousBlank { return text }
        return words(text).joined(separator: " ")
    }

    /// A decimal number of ASCII digits only, no sign, at most `maximum`.
    public static func parseDecimal(_ text: String, maximum: Int) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 19 else { return nil }
        var value = 0
        for byte in text.utf8 {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value <= maximum ? value : nil
    }

    /// `Mail-parameters` / `Rcpt-parameters` after `FROM:` / `TO:` and the path.
    ///
    ///     FROM:<a@b> SIZE=10     FROM: <a@b>     from:a@b     TO:<"x y"@b> NOTIFY=NEVER
    ///
    /// SeeAlso: RFC 5321 §4.1.2 (`Reverse-path`, `Forward-path`, `Mail-parameters`).
    public static func parseMailTransactionArgument(_ argument: String, keyword: String) -> MailTransactionArgument? {
        let bytes = Array(argument.utf8)
        let keywordBytes = Array(keyword.utf8)
        guard bytes.count > keywordBytes.count else { return nil }
        for (offset, expected) in keywordBytes.enumerated() {
            let byte = bytes[offset]
            let upper = byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte
            guard upper == expected else { return nil }
        }
        var index = keywordBytes.count
        while index < bytes.count, isBlank(bytes[index]) { index += 1 }
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
        index += 1
        while index < bytes.count, isBlank(bytes[index]) { index += 1 }
        let path: String
        if index < bytes.count, bytes[index] == UInt8(ascii: "<") {
            guard let close = closingAngleBracket(bytes, from: index + 1) else { return nil }
            path = String(decoding: bytes[(index + 1)..<close], as: UTF8.self)
            index = close + 1
        } else {
            let start = index
            while index < bytes.count, !isBlank(bytes[index]) { index += 1 }
            // A path without its angle brackets must not contain any, nor a quote: written back
            // with brackets (`canonical`) it would read as another path and parameters.
            guard index > start,
                !bytes[start..<index].contains(where: { $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") || $0 == UInt8(ascii: "\"") })
            else { return nil }
            path = String(decoding: bytes[start..<index], as: UTF8.self)
        }
        let parameters = bytes[index...].split(whereSeparator: { isBlank($0) }).map { word -> ESMTPParameter in
            if let equals = word.firstIndex(of: UInt8(ascii: "=")) {
                return ESMTPParameter(
                    keyword: String(decoding: word[word.startIndex..<equals], as: UTF8.self),
                    value: String(decoding: word[(equals + 1)...], as: UTF8.self)
                )
            }
            return ESMTPParameter(keyword: String(decoding: word, as: UTF8.self))
        }
        return MailTransactionArgument(keyword: keyword, path: path, parameters: parameters)
    }

    /// The `>` that closes a path, skipping quoted strings and quoted pairs (`<"a>b"@c>`).
    private static func closingAngleBracket(_ bytes: [UInt8], from start: Int) -> Int? {
        var inQuotes = false
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\") where inQuotes:
                index += 1
            case UInt8(ascii: "\""):
                inQuotes.toggle()
            case UInt8(ascii: ">") where !inQuotes:
                return index
            default:
                break
            }
            index += 1
        }
        return nil
    }
}
