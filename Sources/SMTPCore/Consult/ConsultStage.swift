/// Where in a session the engine stops to ask something outside (a policy service, a milter, the
/// client-limit counters) before it goes on.
public enum ConsultStage: String, Hashable, Sendable, CaseIterable {
    /// The session begins: nothing has reached the upstream yet (it is not even contacted).
    case connect = "CONNECT"
    case helo = "HELO"
    case mail = "MAIL"
    case rcpt = "RCPT"
    case data = "DATA"
    case vrfy = "VRFY"
    case etrn = "ETRN"
    case auth = "AUTH"
    /// Any other command (a tarpit delays every command).
    case otherCommand = "COMMAND"
    /// The client's end of data (or BDAT LAST chunk) arrived; the final dot has not been forwarded.
    case endOfMessage = "END-OF-MESSAGE"

    /// The stage of a command verb.
    public init(verb: SMTPVerb) {
        switch verb {
        case .helo, .ehlo: self = .helo
        case .mail: self = .mail
        case .rcpt: self = .rcpt
        case .data, .bdat: self = .data
        case .vrfy: self = .vrfy
        case .etrn: self = .etrn
        case .auth: self = .auth
        default: self = .otherCommand
        }
    }
}
