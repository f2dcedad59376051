/// The driver's answer to a `ConsultRequest` (`InspectionEngine.decided`).
public struct Verdict: Hashable, Sendable {
    public enum Action: Hashable, Sendable {
        /// Go on as if nothing had been asked (the rule set's own decision still applies).
        case proceed
        /// Answer the command locally with this reply; it is not forwarded. At `connect`: the
        /// reply is the session's greeting and both legs close; at `endOfMessage`: the message is
        /// not delivered (the upstream's transaction is aborted) and the client gets this reply.
        case reply(SMTPReply)
        /// Forward the command with this argument instead.
        case rewrite(argument: String)
        /// Answer with this reply and close both legs.
        case disconnect(SMTPReply)
        /// Wait this long (capture time in replay), then go on (a tarpit).
        case delay(Duration)
    }

    public var action: Action
    /// Header lines (`Name: value`, no line end) to add at the top of the message's content when
    /// it is forwarded (a policy server's `PREPEND`).
    public var prependHeaders: [String]
    /// The rule that decided, named by the `command` event (e.g. the `action: policy` rule).
    public var rule: String?
    /// The policy service's answer, for the `command` event's `policy` field.
    public var policyAnswer: String?
    /// Events the outside service produced (`limit`, `milter`, an `anomaly`), logged in the
    /// session's order just before the engine acts on the verdict.
    public var events: [AuditEvent.Kind]
    /// The `session-end` reason when this verdict refuses the session at `connect` (default
    /// `refused`; client limits say `client-limit`).
    public var endReason: String?
    /// End of a held message: the transaction's sender and recipients as the verdict changed them
    /// (a milter's change-sender, add/delete-recipient); nil keeps what the upstream accepted.
    public var sender: String?
    public var recipients: [String]?

    public init(
        _ action: Action, prependHeaders: [String] = [], rule: String? = nil, policyAnswer: String? = nil,
        events: [AuditEvent.Kind] = [], endReason: String? = nil
    ) {
        self.endReason = endReason
        self.action = action
        self.prependHeaders = prependHeaders
        self.rule = rule
        self.policyAnswer = policyAnswer
        self.events = events
    }

    public static let proceed = Verdict(.proceed)
}
