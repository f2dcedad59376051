/// One place where the live server's replies differ from the captured ones.
///
///     code     #2 VRFY root: captured 252 2.0.0 root, new 502 5.5.1 VRFY command is disabled
///     missing  #6 (end of data): captured 250 2.0.0 Ok: queued as …, nothing came (timeout)
///     extra    the new server sent 421 4.4.2 … where the capture had no reply
public struct ResendDifference: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        /// Both sent a reply at this place; the codes differ.
        case code
        /// The capture has a reply here; the live server sent none (see `reason`).
        case missing
        /// The live server sent a reply the capture does not have at this place.
        case extra
    }

    public var kind: Kind
    /// The step (`ConversationStep`) it belongs to.
    public var step: Int
    /// The captured reply's number in the session (from 0, the greeting); nil for `extra`.
    public var capturedIndex: Int?
    /// The live reply's number in the resend (from 0); nil for `missing`.
    public var receivedIndex: Int?
    /// The verb the captured reply answers, when known.
    public var verb: String?
    /// The command line it answers (AUTH secrets redacted), when known.
    public var command: String?
    public var captured: ResendReply?
    public var received: ResendReply?
    /// For `missing`: `timeout` (nothing more came within the step's time), `closed` (the server
    /// closed the connection) or `connection-failed`.
    public var reason: String?

    public init(
        kind: Kind, step: Int, capturedIndex: Int? = nil, receivedIndex: Int? = nil, verb: String? = nil, command: String? = nil,
        captured: ResendReply? = nil, received: ResendReply? = nil, reason: String? = nil
    ) {
        self.kind = kind
        self.step = step
        self.capturedIndex = capturedIndex
        self.receivedIndex = receivedIndex
        self.verb = verb
        self.command = command
        self.captured = captured
        self.received = received
        self.reason = reason
    }
}
