/// The one question a session has outstanding (`SessionAction.consult`): what the engine holds
/// until the driver's verdict. Client input behind it waits, unread, in pipeline order.
enum ConsultHold: Sendable {
    /// Session start: the upstream is not contacted until the verdict.
    case connect(ConsultID)
    /// A command, parsed and judged by the rule set, not yet forwarded or answered.
    case command(ConsultID, HeldCommand)
    /// A message whose content went upstream but whose end of data (`.CRLF`) has not.
    case endOfMessage(ConsultID, MessageProgress)
    /// A tarpit delay on a held command: the driver calls `decided(id, .proceed)` at the deadline.
    case delayed(ConsultID, HeldCommand, Verdict)
    /// `settings.greet-pause`: the upstream's greeting waits until the driver's wake-up.
    case greetPause(ConsultID)

    var id: ConsultID {
        switch self {
        case .connect(let id), .command(let id, _), .endOfMessage(let id, _), .delayed(let id, _, _), .greetPause(let id): id
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
