import SMTPCore
import SMTPFilters

/// The SMTP replies of milter verdicts (SPEC §12, Postfix's wording).
enum MilterReplyText {
    static func reject(atConnect: Bool) -> SMTPReply {
        atConnect ? SMTPReply(code: 554, "5.7.1 Command rejected") : SMTPReply(code: 550, "5.7.1 Command rejected")
    }

    static func tempfail(atConnect: Bool) -> SMTPReply {
        atConnect
            ? SMTPReply(code: 421, "4.7.1 Service unavailable - try again later")
            : SMTPReply(code: 451, "4.7.1 Service unavailable - try again later")
    }

    static let shutdown = SMTPReply(code: 421, "4.7.0 Service closing transmission channel")
    static let discarded = SMTPReply(code: 250, "2.0.0 Ok: message discarded")

    /// The reply a milter's on-error setting gives.
    static func onError(_ onError: MilterSettings.OnError, atConnect: Bool) -> SMTPReply? {
        switch onError {
        case .accept: nil
        case .tempfail: tempfail(atConnect: atConnect)
        case .reject:
            atConnect ? SMTPReply(code: 554, "5.7.1 Service unavailable") : SMTPReply(code: 550, "5.7.1 Service unavailable")
        }
    }

    /// An `SMFIR_REPLYCODE` text: `550 5.7.1 text`, or several lines joined by CRLF
    /// (`550-5.7.1 a\r\n550 5.7.1 b`); the code must be 4xx or 5xx and the same on every line.
    /// Sendmail doubles `%`; it is undoubled here as Postfix does.
    static func parse(_ text: String) -> SMTPReply? {
        var undoubled = ""
        var afterPercent = false
        for character in text {
            if character == "%" && !afterPercent {
                afterPercent = true
                continue
            }
            afterPercent = false
            undoubled.append(character)
        }
        let lines = undoubled.split(omittingEmptySubsequences: true) { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }
        guard let first = lines.first else { return nil }
        let codeText = first.prefix(3)
        guard codeText.count == 3, let code = Int(codeText), (400...599).contains(code) else { return nil }
        var texts: [String] = []
        for (index, line) in lines.enumerated() {
            guard line.hasPrefix(codeText) else { return nil }
            let rest = line.dropFirst(3)
            let separator = rest.first
            let isLast = index == lines.count - 1
            guard separator == nil || separator == " " || (separator == "-" && !isLast) else { return nil }
            texts.append(String(rest.dropFirst()))
        }
        guard texts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F } }) else { return nil }
        return SMTPReply(code: code, lines: texts)
    }
}
