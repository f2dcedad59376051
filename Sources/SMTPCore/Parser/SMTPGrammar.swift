import struct NIOCore.ByteBuffer

/// Grammar functions shared by the stream parsers. Named after the RFC 5321 ABNF rules they read.
public enum SMTPGrammar {
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let dot: UInt8 = 0x2E
    static let nul: UInt8 = 0x00

    /// What separates the words of a command line: SP and HT, and VT and FF too, because Postfix's
    /// smtpd splits commands on `isspace()` (`smtpd_token.c`): `VRFY<VT>root` is VRFY to it, so it
    /// must be VRFY to the proxy's rules (found by the differential test against Postfix). CR and
    /// LF never get here: they end or refuse the line.
    @inline(__always)
    static func isBlank(_ byte: UInt8) -> Bool { byte == space || byte == tab || byte == 0x0B || byte == 0x0C }

    /// RFC 5322 WSP (SP, HT): header folding.
    @inline(__always)
    static func isWSP(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    /// Splits a command line (without its line end) into verb and argument.
    ///
    ///     "  mail   FROM:<a@b>  " → (MAIL, "FROM:<a@b>")
    ///     "VRFY\tpostmaster"     → (VRFY, "postmaster")
    ///
    /// Leading blanks are skipped and the verb ends at the first SP, HT, VT or FF, as Postfix's smtpd
    /// reads it, so a rule on a verb cannot be evaded by spacing. SeeAlso: RFC 5321 §4.1.1 (`Keyword`).
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

    /// Runs of blanks (SP, HT, VT, FF) become one SP; leading and trailing blanks go.
    public static func collapsingBlanks(_ text: String) -> String {
        var needs = false
        var previousBlank = true
        for byte in text.utf8 {
            let blank = isBlank(byte)
            if blank && (previousBlank || byte != space) { needs = true; break }
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
    /// Reads the argument's UTF-8 in place: the only allocations are the strings and the parameter
    /// list of the result (none for a path and values of up to 15 octets and no parameters).
    /// SeeAlso: RFC 5321 §4.1.2 (`Reverse-path`, `Forward-path`, `Mail-parameters`).
    public static func parseMailTransactionArgument(_ argument: String, keyword: String) -> MailTransactionArgument? {
        var argument = argument
        return argument.withUTF8 { parseMailTransactionArgument($0, keyword: keyword) }
    }

    private static func parseMailTransactionArgument(_ bytes: UnsafeBufferPointer<UInt8>, keyword: String) -> MailTransactionArgument? {
        var index = 0
        for expected in keyword.utf8 {
            guard index < bytes.count else { return nil }
            let byte = bytes[index]
            let upper = byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte
            guard upper == expected else { return nil }
            index += 1
        }
        guard index < bytes.count else { return nil }
        while index < bytes.count, isBlank(bytes[index]) { index += 1 }
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
        index += 1
        while index < bytes.count, isBlank(bytes[index]) { index += 1 }
        let path: String
        if index < bytes.count, bytes[index] == UInt8(ascii: "<") {
            guard let close = closingAngleBracket(bytes, from: index + 1) else { return nil }
            path = String(decoding: UnsafeBufferPointer(rebasing: bytes[(index + 1)..<close]), as: UTF8.self)
            index = close + 1
        } else {
            let start = index
            while index < bytes.count, !isBlank(bytes[index]) { index += 1 }
            // A path without its angle brackets must not contain any, nor a quote: written back
            // with brackets (`canonical`) it would read as another path and parameters.
            guard index > start,
                !bytes[start..<index].contains(where: { $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") || $0 == UInt8(ascii: "\"") })
            else { return nil }
            path = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        }
        var parameters: [ESMTPParameter] = []
        while index < bytes.count {
            while index < bytes.count, isBlank(bytes[index]) { index += 1 }
            let start = index
            var equals: Int?
            while index < bytes.count, !isBlank(bytes[index]) {
                if equals == nil, bytes[index] == UInt8(ascii: "=") { equals = index }
                index += 1
            }
            guard index > start else { break }
            if let equals {
                parameters.append(
                    ESMTPParameter(
                        keyword: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<equals]), as: UTF8.self),
                        value: String(decoding: UnsafeBufferPointer(rebasing: bytes[(equals + 1)..<index]), as: UTF8.self)))
            } else {
                parameters.append(ESMTPParameter(keyword: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)))
            }
        }
        return MailTransactionArgument(keyword: keyword, path: path, parameters: parameters)
    }

    /// The `>` that closes a path, skipping quoted strings and quoted pairs (`<"a>b"@c>`).
    private static func closingAngleBracket(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
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
