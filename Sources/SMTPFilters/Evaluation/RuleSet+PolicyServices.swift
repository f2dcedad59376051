import SMTPCore

/// What drivers need of the `action: policy` rules (SPEC §11): which stages to stop at, which
/// rules apply at the end of a message, and each rule's service.
extension RuleSet {
    /// The service settings of the `action: policy` rule `name`, or nil when no policy rule has
    /// that name (a rule reloaded away, or a rule of another kind).
    public func policyService(named name: String) -> PolicyService? {
        policyRulesByName[name]?.policy
    }

    /// Every `action: policy` rule, in rule order.
    public var policyRules: [Rule] {
        rules.filter { $0.action == .policy }
    }

    /// The stages at which some policy rule may apply to `client` (its `command:` verbs and its
    /// `client:`); empty when no policy rule concerns this client.
    public func policyStages(for client: Endpoint) -> Set<ConsultStage> {
        guard !policyRulesByName.isEmpty else { return [] }
        let address = usesClientAddress ? IPAddress(client.host) : nil
        var stages = Set<ConsultStage>()
        for rule in rules where rule.action == .policy && rule.matches(client: address) {
            guard case .verbs(let verbs) = rule.command else { continue }
            for verb in verbs {
                stages.insert(verb == PolicyService.endOfMessage ? .endOfMessage : ConsultStage(verb: verb))
            }
        }
        return stages
    }

    /// The `action: policy` rules with `command: END-OF-MESSAGE` that match `client`, in rule
    /// order: the engine asks them when the client's end of data arrives (before the final dot
    /// is forwarded).
    public func endOfMessagePolicyRules(client: Endpoint) -> [String] {
        guard !policyRulesByName.isEmpty else { return [] }
        let address = usesClientAddress ? IPAddress(client.host) : nil
        return rules.filter {
            $0.action == .policy && $0.command.matches(PolicyService.endOfMessage) && $0.matches(client: address)
        }.map(\.name)
    }
}
