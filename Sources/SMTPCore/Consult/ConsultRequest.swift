/// One question the engine asks its driver before it goes on (`SessionAction.consult`).
///
/// The engine holds the consulted command, and every command pipelined behind it, until the
/// driver answers with a `Verdict`; nothing of it has reached the upstream yet. For
/// `endOfMessage` the content has been forwarded (or, with `holdsMessages`, handed to the driver
/// as `SessionAction.holdContent`) but not the end of data.
public struct ConsultRequest: Hashable, Sendable {
    public var stage: ConsultStage
    /// The command consulted (nil at `connect` and `endOfMessage`).
    public var verb: SMTPVerb?
    /// The command's canonical argument (AUTH secrets redacted); empty for stages without one.
    public var argument: String
    /// For MAIL/RCPT: the address between `<>`; nil otherwise.
    public var path: String?
    /// The `action: policy` rules that matched this command, in rule order (empty when the
    /// consult comes from the session's `consultStages`: limits, milters).
    public var policyRules: [String]
    public var facts: SessionFacts

    public init(
        stage: ConsultStage, verb: SMTPVerb? = nil, argument: String = "", path: String? = nil, policyRules: [String] = [],
        facts: SessionFacts
    ) {
        self.stage = stage
        self.verb = verb
        self.argument = argument
        self.path = path
        self.policyRules = policyRules
        self.facts = facts
    }
}
