import IPAddressing
import SMTPCore

extension RuleSet {
    public func decide(_ command: SMTPCommand, client: Endpoint) -> PolicyDecision {
        let address = clientAddress(client)
        var loggedBy: [String] = []
        var consult: [String] = []
        for index in commandRulesByVerb[command.verb] ?? anyVerbRules {
            let action: PolicyDecision.Action?
            do {
                action = try commandRules[index].evaluate(command, client: address)
            } catch {
                return Self.ruleError(commandRules[index], command: command, error: error, loggedBy: loggedBy)
            }
            guard let action else { continue }
            switch commandRules[index].action {
            case .log:
                loggedBy.append(commandRules[index].name)
            case .policy:
                // A client that sends the pseudo-verb as a command does not reach the stage.
                if command.verb != PolicyService.endOfMessage { consult.append(commandRules[index].name) }
            default:
                return PolicyDecision(action: action, rule: commandRules[index].name, loggedBy: loggedBy, consult: consult)
            }
        }
        return PolicyDecision(action: .forward, rule: loggedBy.first, loggedBy: loggedBy, consult: consult)
    }

    /// A rule that could not be evaluated refuses the command (fail closed: a reject rule must
    /// never let a command through because its pattern failed) with a temporary error, and says
    /// why in an `anomaly` `rule-error`.
    static func ruleError(_ rule: Rule, command: SMTPCommand, error: any Error, loggedBy: [String]) -> PolicyDecision {
        PolicyDecision(
            action: .reject(SMTPReply(code: 451, "4.3.0 Error: a rule could not be evaluated, try again later")),
            rule: rule.name, loggedBy: loggedBy,
            anomaly: PolicyDecision.Anomaly(
                kind: .ruleError, detail: "rule \(rule.name): matching '\(rule.argument?.source ?? "")' against the \(command.verb.name) argument failed: \(error)"))
    }

    public func stripRule(forKeyword keyword: String, client: Endpoint) -> String? {
        let address = clientAddress(client)
        return ehloKeywordRules.first { $0.action == .strip && $0.matches(keyword: keyword, client: address) }?.name
    }

    public func replyRules(code: Int, verb: SMTPVerb?, client: Endpoint) -> [String] {
        let address = clientAddress(client)
        return replyCodeRules.filter { $0.matches(replyCode: code, verb: verb, client: address) }.map(\.name)
    }

    /// Names of the `log` rules with `ehlo-keyword` that match `keyword` in an EHLO reply to this
    /// client, in rule order (for auditing which capabilities a server offers).
    public func keywordLogRules(forKeyword keyword: String, client: Endpoint) -> [String] {
        let address = clientAddress(client)
        return ehloKeywordRules.filter { $0.action == .log && $0.matches(keyword: keyword, client: address) }
            .map(\.name)
    }

    private func clientAddress(_ client: Endpoint) -> IPAddress? {
        usesClientAddress ? client.address : nil
    }
}
