/// Which EHLO keyword a command or parameter depends on, so that a stripped keyword is refused
/// when the client uses it anyway (SPEC §3: `BDAT` after `CHUNKING` was stripped).
enum KeywordGate {
    struct Use {
        var keyword: String
        /// The parameter that needs the keyword (nil: the verb itself).
        var parameter: String?
    }

    /// Verbs that are part of every SMTP server and never depend on a keyword.
    private static let baseVerbs: Set<SMTPVerb> = [.helo, .ehlo, .mail, .rcpt, .data, .rset, .noop, .quit]

    /// `transaction` is the command's `transactionArgument`, parsed once by the caller.
    static func uses(of command: SMTPCommand, transaction: MailTransactionArgument?) -> [Use] {
        switch command.verb {
        case .bdat: return [Use(keyword: "CHUNKING")]
        case .xexch50, .xExch50: return [Use(keyword: "XEXCH50"), Use(keyword: "X-EXCH50")]
        case .mail:
            guard let argument = transaction else { return [] }
            return argument.parameters.flatMap { mailParameterUses($0) }
        case .rcpt:
            guard let argument = transaction else { return [] }
            return argument.parameters.compactMap { parameter in
                switch parameter.keyword {
                case "NOTIFY", "ORCPT": Use(keyword: "DSN", parameter: parameter.description)
                case "RRVS": Use(keyword: "RRVS", parameter: parameter.description)
                default: nil
                }
            }
        default:
            return baseVerbs.contains(command.verb) || command.verb.name.isEmpty ? [] : [Use(keyword: command.verb.name)]
        }
    }

    private static func mailParameterUses(_ parameter: ESMTPParameter) -> [Use] {
        var text: String { parameter.description }
        switch parameter.keyword {
        case "BODY":
            switch parameter.value.map(SMTPVerb.uppercased) {
            case "8BITMIME": return [Use(keyword: "8BITMIME", parameter: text)]
            case "BINARYMIME": return [Use(keyword: "BINARYMIME", parameter: text), Use(keyword: "CHUNKING", parameter: text)]
            default: return []
            }
        case "SMTPUTF8": return [Use(keyword: "SMTPUTF8", parameter: text)]
        case "RET", "ENVID": return [Use(keyword: "DSN", parameter: text)]
        case "BY": return [Use(keyword: "DELIVERBY", parameter: text)]
        case "MT-PRIORITY": return [Use(keyword: "MT-PRIORITY", parameter: text)]
        case "REQUIRETLS": return [Use(keyword: "REQUIRETLS", parameter: text)]
        case "AUTH": return [Use(keyword: "AUTH", parameter: text)]
        default: return []
        }
    }
}
