/// The one question a session has outstanding (`SessionAction.consult`): what the engine holds
/// until the driver's verdict. Client input behind it waits, unread, in pipeline order. The large
/// payloads are boxed (`indirect`): a hold lives in `SessionState`, which stays a few words wide.
enum ConsultHold: Sendable {
    /// Session start: the upstream is not contacted until the verdict.
    case connect(ConsultID)
    /// A command, parsed and judged by the rule set, not yet forwarded or answered.
    indirect case command(ConsultID, HeldCommand)
    /// A message whose content went upstream (or, `held`, to the driver) but whose end of data
    /// (`.CRLF`) has not.
    indirect case endOfMessage(ConsultID, MessageProgress, held: Bool)
    /// A tarpit delay on a held command: the driver calls `decided(id, .proceed)` at the deadline.
    indirect case delayed(ConsultID, HeldCommand, Verdict)
    /// `settings.greet-pause`: the upstream's greeting waits until the driver's wake-up.
    case greetPause(ConsultID)

    var id: ConsultID {
        switch self {
        case .connect(let id), .command(let id, _), .endOfMessage(let id, _, _), .delayed(let id, _, _), .greetPause(let id): id
        }
    }
}

/// A command held for a verdict, with everything its handling needs once the verdict comes.
struct HeldCommand: Sendable {
    var command: SMTPCommand
    var transaction: MailTransactionArgument?
    var line: CommandLineFramer.Line
    var display: String
    var decision: PolicyDecision
}
