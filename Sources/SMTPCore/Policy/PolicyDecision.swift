/// A rule set's verdict on one command.
public struct PolicyDecision: Hashable, Sendable {
    public enum Action: Hashable, Sendable {
        /// No terminal rule matched.
        case forward
        /// An `allow` rule matched: forwarded, and no later rule is consulted.
        case allow
        /// Answered by the proxy, not forwarded. Nil: the engine's default reply for the verb.
        case reject(SMTPReply?)
        /// Forwarded with this argument instead (the verb stays).
        case rewrite(argument: String)
        /// Answered (nil: `421 4.7.0`) and both connections closed.
        case disconnect(SMTPReply?)
    }

    public var action: Action
    /// The rule whose action decided, if any.
    public var rule: String?
    /// Every `log` rule that matched before the decision, in order.
    public var loggedBy: [String]
    /// `action: policy` rules (SPEC §11) that matched before the decision, in order: the engine
    /// asks the driver (`ConsultRequest.policyRules`) before it acts on `action`.
    public var consult: [String]

    /// An `anomaly` event the engine logs with the decision (e.g. `rule-error`), or nil.
    public var anomaly: Anomaly?

    public struct Anomaly: Hashable, Sendable {
        public var kind: AnomalyKind
        public var detail: String
        public init(kind: AnomalyKind, detail: String) {
            self.kind = kind
            self.detail = detail
        }
    }

    public init(action: Action, rule: String? = nil, loggedBy: [String] = [], consult: [String] = [], anomaly: Anomaly? = nil) {
        self.action = action
        self.rule = rule
        self.loggedBy = loggedBy
        self.consult = consult
        self.anomaly = anomaly
    }

    public static let forward = PolicyDecision(action: .forward)
}
