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

    /// `FROM:<path> KEY=VALUE …` with single blanks.
    public var canonical: String {
        var out = "\(keyword):<\(path)>"
        for parameter in parameters {
            out += " " + parameter.description
        }
        return out
    }

    public func parameter(_ keyword: String) -> ESMTPParameter? {
        parameters.first { $0.keyword == keyword }
    }
}
