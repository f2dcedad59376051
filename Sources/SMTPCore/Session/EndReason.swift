/// Why a session ended: the `session-end` `reason` field. An open set (drivers name their own
/// refusals: `max-connections`, `upstream-unavailable`, a verdict's `client-limit`); the first
/// reason set is the one reported.
public struct EndReason: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    public static let quit: EndReason = "quit"
    public static let clientClosed: EndReason = "client-closed"
    public static let clientClosedMidData: EndReason = "client-closed-mid-data"
    public static let serverClosed: EndReason = "server-closed"
    public static let upstreamLost: EndReason = "upstream-lost"
    public static let timeout: EndReason = "timeout"
    public static let disconnect: EndReason = "disconnect"
    public static let pipeliningOverflow: EndReason = "pipelining-overflow"
    public static let bareNewlineRejected: EndReason = "bare-newline-rejected"
    public static let messageTooLarge: EndReason = "message-too-large"
    public static let messageRefused: EndReason = "message-refused"
    public static let milterShutdown: EndReason = "milter-shutdown"
    public static let tlsFailed: EndReason = "tls-failed"
    public static let pregreet: EndReason = "pregreet"
    public static let refused: EndReason = "refused"
    public static let incomplete: EndReason = "incomplete"
    public static let upstreamProtocolError: EndReason = "upstream-protocol-error"
}
