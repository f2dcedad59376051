/// What the engine asks of a rule set. SMTPFilters implements it from `filters/*.yaml`;
/// `NoRules` is the pure-audit policy. Implementations are pure functions of their inputs, so the
/// live proxy and the replayer reach the same verdicts for the same session.
public protocol InspectionPolicy: Sendable {
    var settings: PolicySettings { get }

    /// The verdict for one client command. `command.argument` is the canonical argument
    /// (see `SMTPCommand.canonicalArgument`).
    func decide(_ command: SMTPCommand, client: Endpoint) -> PolicyDecision

    /// The name of the `strip` rule that removes `keyword` (upper case) from EHLO replies to this
    /// client, or nil to keep it. A stripped keyword's verb or parameter is refused when used.
    func stripRule(forKeyword keyword: String, client: Endpoint) -> String?

    /// Names of the `log` rules that match a server reply (`reply-code`), in rule order.
    func replyRules(code: Int, verb: SMTPVerb?, client: Endpoint) -> [String]

    /// Names of the `log` rules that match an EHLO keyword the server offers (`ehlo-keyword`).
    func keywordLogRules(forKeyword keyword: String, client: Endpoint) -> [String]

    /// Names of the `action: policy` rules for `END-OF-MESSAGE` that apply to this client, in rule
    /// order: the engine consults (`ConsultStage.endOfMessage`) before it forwards the end of data.
    func endOfMessageConsults(client: Endpoint) -> [String]
}

extension InspectionPolicy {
    public func keywordLogRules(forKeyword keyword: String, client: Endpoint) -> [String] { [] }
    public func endOfMessageConsults(client: Endpoint) -> [String] { [] }
}

/// The policy with no rules: everything is forwarded and logged; §4 protocol safety still applies.
public struct NoRules: InspectionPolicy {
    public init() {}
    public var settings: PolicySettings { PolicySettings() }
    public func decide(_ command: SMTPCommand, client: Endpoint) -> PolicyDecision { .forward }
    public func stripRule(forKeyword keyword: String, client: Endpoint) -> String? { nil }
    public func replyRules(code: Int, verb: SMTPVerb?, client: Endpoint) -> [String] { [] }
}
