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
        canonicalArgument(transaction: transactionArgument)
    }

    /// `canonicalArgument` from the argument already parsed: `transaction` must be this command's
    /// `transactionArgument` (the engine parses a MAIL or RCPT argument once per command).
    public func canonicalArgument(transaction: MailTransactionArgument?) -> String {
        guard let transaction else { return SMTPGrammar.collapsingBlanks(argument) }
        return transaction.isCanonical(argument) ? argument : transaction.canonical
    }

    /// The argument of MAIL (`FROM:`) or RCPT (`TO:`) parsed; nil for other verbs and for an
    /// argument that does not parse.
    public var transactionArgument: MailTransactionArgument? {
        switch verb {
        case .mail: MailTransactionArgument(parsing: argument, keyword: "FROM")
        case .rcpt: MailTransactionArgument(parsing: argument, keyword: "TO")
        default: nil
        }
    }

    /// The command as it goes on the wire, without CRLF.
    public var line: String {
        argument.isEmpty ? verb.name : "\(verb.name) \(argument)"
    }
}
