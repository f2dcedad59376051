import SMTPCore

/// What the engine and drivers need of the `action: policy` rules (SPEC §11): which rules apply at
/// the end of a message (`InspectionPolicy.endOfMessageConsults`), and each rule's service.
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

    /// The `action: policy` rules with `command: END-OF-MESSAGE` that match `client`, in rule
    /// order: the engine asks them when the client's end of data arrives (before the final dot
    /// is forwarded).
    public func endOfMessageConsults(client: Endpoint) -> [String] {
        guard !policyRulesByName.isEmpty else { return [] }
        let address = usesClientAddress ? client.address : nil
        return rules.filter {
            $0.action == .policy && $0.command.matches(PolicyService.endOfMessage) && $0.matches(client: address)
        }.map(\.name)
    }
}
