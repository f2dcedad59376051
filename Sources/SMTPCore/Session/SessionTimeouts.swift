/// How long a session may wait, per RFC 5321 §4.5.3.2, before the driver gives up on it with
/// `421 4.4.2` (`InspectionEngine.timedOut`). The client-side waits are the server timeouts of
/// §4.5.3.2.7 (`--idle-timeout`); the upstream-side waits are the client timeouts of §4.5.3.2.1–6.
public struct SessionTimeouts: Hashable, Sendable {
    /// Waiting for the client's next command (5 minutes).
    public var clientCommand: Int64 = 300
    /// Waiting for more message content (3 minutes, "data block").
    public var clientData: Int64 = 180
    /// Waiting for the greeting, MAIL, RCPT and other replies (5 minutes).
    public var serverReply: Int64 = 300
    /// Waiting for the reply to DATA (2 minutes, "DATA initiation").
    public var dataInitiation: Int64 = 120
    /// Waiting for the reply to the end of data (10 minutes, "DATA termination").
    public var dataTermination: Int64 = 600
    /// A blind relay (STARTTLS passthrough) with no traffic in either direction.
    public var relayIdle: Int64 = 300

    public init() {}

    /// `--idle-timeout`: the client-side waits and the relay's idle time.
    public init(idle: Int64) {
        clientCommand = idle
        clientData = min(clientData, idle)
        relayIdle = idle
    }

    /// Seconds allowed for what the engine is waiting for, or nil for no timer (nothing to wait
    /// for, or an outside verdict: its service has its own timeout).
    public func seconds(for wait: InspectionEngine.Wait) -> Int64? {
        switch wait {
        case .clientCommand: clientCommand
        case .clientData: clientData
        case .serverReply("DATA"), .serverReply("BDAT"): dataInitiation
        case .serverReply("."): dataTermination
        case .serverReply: serverReply
        case .relay: relayIdle
        case .verdict, .nothing: nil
        }
    }
}
