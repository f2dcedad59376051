/// What the first line of one direction looks like.
enum FirstLineKind: Equatable {
    /// `220 …`, `220-…` or `554 …`: an SMTP server greeting.
    case greeting
    /// Another three-digit reply line (`250 …`, `421 …`): a server, maybe mid-session.
    case reply
    /// An SMTP command that only SMTP uses (EHLO, HELO, MAIL FROM, RCPT TO, STARTTLS, BDAT).
    case strongCommand
    /// A command SMTP shares with other protocols (QUIT, RSET, NOOP, AUTH, DATA, VRFY, EXPN…).
    case weakCommand
    /// An FTP command (USER, PASS, FEAT…): a `220` greeting then belonged to FTP.
    case ftpCommand
    /// A line that says another protocol (`+OK`, `* OK`, `SSH-`, `HTTP/`).
    case otherProtocol
    case unknown

    static let strongVerbs: Set<String> = ["EHLO", "HELO", "STARTTLS", "BDAT"]
    static let weakVerbs: Set<String> = [
        "QUIT", "RSET", "NOOP", "AUTH", "DATA", "VRFY", "EXPN", "HELP", "TURN", "ATRN", "ETRN", "X-EXPS", "XEXCH50",
        "X-EXCH50", "X-LINK2STATE",
    ]
    static let ftpVerbs: Set<String> = [
        "USER", "PASS", "ACCT", "SYST", "FEAT", "OPTS", "PWD", "CWD", "TYPE", "PASV", "EPSV", "PORT", "EPRT", "LIST",
        "NLST", "RETR", "STOR", "CLNT", "MODE", "STRU", "MLSD", "MLST",
    ]

    /// Classifies `line` (without its line end).
    static func classify(_ line: UnsafeRawBufferPointer) -> FirstLineKind {
        if line.count >= 3, isDigit(line[0]), isDigit(line[1]), isDigit(line[2]), line.count == 3 || line[3] == 0x20 || line[3] == 0x2D {
            let code = Int(line[0] - 0x30) * 100 + Int(line[1] - 0x30) * 10 + Int(line[2] - 0x30)
            return code == 220 || code == 554 ? .greeting : .reply
        }
        for prefix in ["+OK", "-ERR", "* OK", "* PREAUTH", "* BYE", "SSH-", "HTTP/"] where line.starts(with: prefix.utf8) {
            return .otherProtocol
        }
        // The first word, upper-cased (commands are ASCII; anything else is unknown).
        var word = ""
        var index = 0
        while index < line.count, index < 16, line[index] != 0x20 {
            let byte = line[index]
            guard byte > 0x20, byte < 0x7F else { return .unknown }
            word.unicodeScalars.append(Unicode.Scalar(byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte))
            index += 1
        }
        guard index == line.count || line[index] == 0x20 else { return .unknown }
        let rest = UnsafeRawBufferPointer(rebasing: line[index...])
        if word == "MAIL" { return restStarts(rest, with: "FROM") ? .strongCommand : .unknown }
        if word == "RCPT" { return restStarts(rest, with: "TO") ? .strongCommand : .unknown }
        if word == "AUTH" && (restStarts(rest, with: "TLS") || restStarts(rest, with: "SSL")) { return .ftpCommand }
        if strongVerbs.contains(word) { return .strongCommand }
        if weakVerbs.contains(word) { return .weakCommand }
        if ftpVerbs.contains(word) { return .ftpCommand }
        return .unknown
    }

    var isCommand: Bool { self == .strongCommand || self == .weakCommand }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// After optional spaces, `rest` starts with `word` (case-insensitively).
    private static func restStarts(_ rest: UnsafeRawBufferPointer, with word: String) -> Bool {
        var index = 0
        while index < rest.count, rest[index] == 0x20 { index += 1 }
        for expected in word.utf8 {
            guard index < rest.count else { return false }
            let byte = rest[index]
            guard (byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte) == expected else { return false }
            index += 1
        }
        return true
    }
}
