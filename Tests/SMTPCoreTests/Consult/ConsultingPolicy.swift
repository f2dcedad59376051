import SMTPCore

/// A rule set with `action: policy` rules: a command whose argument contains one of `consultOn`'s
/// keys is consulted about, naming that key as the rule.
struct ConsultingPolicy: InspectionPolicy {
    var consultOn: [String: SMTPVerb]
    var endOfMessage: [String] = []
    var settings: PolicySettings { PolicySettings() }

    func decide(_ command: SMTPCommand, client: Endpoint) -> PolicyDecision {
        let rules = consultOn.filter { command.verb == $0.value && command.argument.contains($0.key) }.map(\.key).sorted()
        return PolicyDecision(action: .forward, consult: rules)
    }

    func stripRule(forKeyword keyword: String, client: Endpoint) -> String? { nil }
    func replyRules(code: Int, verb: SMTPVerb?, client: Endpoint) -> [String] { [] }
    func endOfMessageConsults(client: Endpoint) -> [String] { endOfMessage }
}
