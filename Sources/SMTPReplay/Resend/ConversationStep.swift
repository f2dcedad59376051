import struct NIOCore.ByteBuffer

/// One turn of a captured session: the client bytes sent between two server transmissions, and
/// the complete replies the server sent after them, before the client spoke again.
///
///     step 0:  (nothing)                          → 220 upstream.test ESMTP
///     step 1:  EHLO vm                            → 250-upstream.test…
///     step 2:  MAIL FROM:<a> RCPT TO:<b> DATA     → 250, 250, 354        (pipelined: one step)
///     step 3:  <message>.                         → 250 2.0.0 Ok: queued as …
///
/// The resend sends `clientBytes`, then waits for as many replies as `replies` holds.
public struct ConversationStep: Sendable {
    /// The client's bytes exactly as captured (AUTH secrets included: they are sent, never shown).
    public var clientBytes: ByteBuffer
    public var replies: [CapturedReply]
    /// The client started TLS before this step (the previous one ended with the 220 to
    /// STARTTLS) and `clientBytes` are the clear text it sent inside TLS, as a recording of
    /// `proxy --tls terminate` holds them.
    public var startsTLS: Bool

    public init(clientBytes: ByteBuffer = ByteBuffer(), replies: [CapturedReply] = [], startsTLS: Bool = false) {
        self.clientBytes = clientBytes
        self.replies = replies
        self.startsTLS = startsTLS
    }
}
