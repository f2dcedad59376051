/// A client command line as the engine read it: the verb, the text after it, and how it was framed.
///
/// `argument` is the text after the verb and the whitespace that follows it, with trailing
/// whitespace removed; bytes that are not UTF-8 are shown as U+FFFD. Rules match on
/// `canonicalArgument`, which removes every spelling variant a server would accept too (case of
/// `FROM:`/`TO:`, spaces around the colon, missing angle brackets, runs of blanks).
///
///     MAIL FROM:<alice@example.org> SIZE=1024 BODY=8BITMIME
///     mail   from: alice@example.org   size=1024      (same canonical argument, upper-cased keywords)
public struct SMTPCommand: Hashable, Sendable {
    public var verb: SMTPVerb
    public var argument: String

    public init(verb: SMTPVerb, argument: String = "") {
        self.verb = verb
        self.argument = argument
    }

    /// The form rules see; see the type's documentation.
    public var canonicalArgument: String {
        switch verb {
        case .mail:
            if let parsed = MailTransactionArgument(parsing: argument, keyword: "FROM") { return parsed.canonical }
        case .rcpt:
            if let parsed = MailTransactionArgument(parsing: argument, keyword: "TO") { return parsed.canonical }
        default:
            break
        }
        return SMTPGrammar.collapsingBlanks(argument)
    }

    /// The command as it goes on the wire, without CRLF.
    public var line: String {
        argument.isEmpty ? verb.name : "\(verb.name) \(argument)"
    }
}
