import SMTPCore
import struct NIOCore.ByteBuffer

/// An SMTP session of a capture, cut into the steps a resend is paced by (see
/// `ConversationStep`). Built by `ConversationExtractor`.
public struct CapturedConversation: Sendable {
    /// Why the conversation ends before the captured connection did.
    public enum Stop: Hashable, Sendable {
        /// The server accepted STARTTLS in this step (its last reply is that 220): the rest is TLS.
        case startTLS(step: Int)
        /// The session turned into a blind relay in this step (TURN/ATRN accepted).
        case relay(step: Int)
        /// The capture lost `count` octets of one stream (`client→server` or `server→client`):
        /// the steps from the one in progress on are left out.
        case gap(stream: String, count: Int)
    }

    /// `<file name>#<n>`, as the replay's audit events name the session.
    public var session: String
    /// `<path>#<n>`.
    public var source: String
    public var client: Endpoint
    public var server: Endpoint
    public var steps: [ConversationStep]
    public var stop: Stop?
    /// False when the capture began after the connection's handshake (the session may lack its start).
    public var fromHandshake: Bool

    public init(
        session: String, source: String, client: Endpoint, server: Endpoint, steps: [ConversationStep] = [], stop: Stop? = nil,
        fromHandshake: Bool = true
    ) {
        self.session = session
        self.source = source
        self.client = client
        self.server = server
        self.steps = steps
        self.stop = stop
        self.fromHandshake = fromHandshake
    }

    /// Every captured reply, in order.
    public var replies: [CapturedReply] { steps.flatMap(\.replies) }

    /// Octets the client sent, over all steps.
    public var clientByteCount: Int { steps.reduce(0) { $0 + $1.clientBytes.readableBytes } }
}
