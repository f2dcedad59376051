import SMTPCore

/// The rules in force, behind `--audit-failure tempfail`: while the audit log cannot be written,
/// a command that starts a transaction or its content (MAIL, DATA, BDAT) is refused with
/// `451 4.3.0` before the rules are asked, so no message passes while its record cannot be
/// kept. Everything else goes to the rules unchanged.
///
/// This is the one verdict that does not depend on the session alone (it reads the writer's
/// state): replay never uses it.
struct AuditGatedPolicy: InspectionPolicy {
    static let rule = "audit-failure"
    static let reply = SMTPReply(code: 451, "4.3.0 Error: audit log unavailable, try again later")

    let base: any InspectionPolicy
    let health: OutputHealth

    var settings: PolicySettings { base.settings }

    func decide(_ command: SMTPCommand, client: Endpoint) -> PolicyDecision {
        switch command.verb {
        case .mail, .data, .bdat:
            if health.isFailing { return PolicyDecision(action: .reject(Self.reply), rule: Self.rule) }
        default:
            break
        }
        return base.decide(command, client: client)
    }

    func stripRule(forKeyword keyword: String, client: Endpoint) -> String? {
        base.stripRule(forKeyword: keyword, client: client)
    }

    func replyRules(code: Int, verb: SMTPVerb?, client: Endpoint) -> [String] {
        base.replyRules(code: code, verb: verb, client: client)
    }

    func keywordLogRules(forKeyword keyword: String, client: Endpoint) -> [String] {
        base.keywordLogRules(forKeyword: keyword, client: client)
    }

    func endOfMessageConsults(client: Endpoint) -> [String] {
        base.endOfMessageConsults(client: client)
    }
}
