/// The argument of `MAIL FROM:` or `RCPT TO:`: a path and its ESMTP parameters.
///
///     FROM:<alice@example.org> SIZE=1024 BODY=8BITMIME
///     TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.org
///     FROM:<>                                         (null reverse-path)
///
/// Parsing is as lenient as Postfix's (`strict_rfc821_envelopes = no`): blanks around the colon,
/// a path without angle brackets and lower-case keywords are accepted, so that a rule sees what
/// the upstream would act on. SeeAlso: RFC 5321 §4.1.1.2, §4.1.1.3, §4.1.2.
public struct MailTransactionArgument: Hashable, Sendable {
    /// `FROM` or `TO`.
    public var keyword: String
    /// The mailbox inside the angle brackets (empty for the null path `<>`).
    public var path: String
    public var parameters: [ESMTPParameter]

    public init(keyword: String, path: String, parameters: [ESMTPParameter] = []) {
        self.keyword = keyword
        self.path = path
        self.parameters = parameters
    }

    public init?(parsing argument: String, keyword: String) {
        guard let parsed = SMTPGrammar.parseMailTransactionArgument(argument, keyword: keyword) else { return nil }
        self = parsed
    }

    /// `FROM:<path> KEY=VALUE …` with single blanks. Built in one allocation (none up to 15 octets).
    public var canonical: String {
        var length = keyword.utf8.count + path.utf8.count + 3
        for parameter in parameters {
            length += 1 + parameter.keyword.utf8.count + (parameter.value.map { $0.utf8.count + 1 } ?? 0)
        }
        var out = ""
        out.reserveCapacity(length)
        out += keyword
        out += ":<"
        out += path
        out += ">"
        for parameter in parameters {
            out += " "
            out += parameter.keyword
            if let value = parameter.value {
                out += "="
                out += value
            }
        }
        return out
    }

    /// Whether `text` is already `canonical`, octet for octet (what most clients send): the
    /// canonical argument is then `text` itself, shared rather than built anew.
    public func isCanonical(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            var offset = 0
            func take(_ piece: String) -> Bool {
                var piece = piece
                return piece.withUTF8 { expected in
                    guard expected.count <= bytes.count - offset else { return false }
                    for index in expected.indices where bytes[offset + index] != expected[index] { return false }
                    offset += expected.count
                    return true
                }
            }
            guard take(keyword), take(":<"), take(path), take(">") else { return false }
            for parameter in parameters {
                guard take(" "), take(parameter.keyword) else { return false }
                if let value = parameter.value {
                    guard take("="), take(value) else { return false }
                }
            }
            return offset == bytes.count
        }
    }

    public func parameter(_ keyword: String) -> ESMTPParameter? {
        parameters.first { $0.keyword == keyword }
    }
}
