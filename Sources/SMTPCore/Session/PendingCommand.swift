/// A command the client is waiting on a reply for, in pipeline order (RFC 2920).
///
/// Forwarded commands wait for the upstream's reply; commands the proxy answered itself carry that
/// reply and are sent to the client only when every command before them has been answered.
struct PendingCommand: Sendable {
    enum Effect: Sendable {
        case none
        case greeting
        case ehlo
        case helo
        case mail(path: String)
        case rcpt(path: String)
        case rset
        case data
        case endOfMessage(MessageProgress)
        case bdat(last: Bool, progress: MessageProgress?)
        case auth
        case startTLS
        case quit
        case binaryBlob(size: Int)
        case roleReversal
        /// `holdsMessages`: DATA answered by the proxy's own 354 (or refusal), decided when it
        /// reaches the head of the pipeline (after the replies to the RCPTs before it).
        case heldData
        /// The upstream's reply to the DATA that releases a held message.
        case releaseData(MessageProgress)
        /// `holdsMessages`: a BDAT answered by the proxy once its octets are in and it reaches the
        /// head of the pipeline; the last one then asks for the end-of-message verdict instead.
        case heldChunk(last: Bool, complete: Bool)
    }

    /// The verb named in the reply's `for` field.
    var verb: String
    var effect: Effect
    /// The proxy's own answer; nil when the upstream answers.
    var localReply: SMTPReply?
    /// Close both connections after sending `localReply` (a `disconnect`).
    var closeAfterReply = false
    /// The reply decides how the client's next bytes are read (DATA, AUTH, STARTTLS…): client
    /// input is held until it arrives.
    var decidesClientMode = false
    /// A command the proxy sent on its own (an RSET that aborts a transaction): its reply is not
    /// shown to the client.
    var isInternal = false
    /// When the command went upstream (for BDAT: its command line; for `.`: the end of data): the
    /// reply's `latency` counts from here. Nil for the greeting and the proxy's own answers.
    var forwardedAt: SMTPTimestamp?

    static func local(_ verb: String, _ reply: SMTPReply, closeAfterReply: Bool = false) -> PendingCommand {
        PendingCommand(verb: verb, effect: .none, localReply: reply, closeAfterReply: closeAfterReply)
    }
}
