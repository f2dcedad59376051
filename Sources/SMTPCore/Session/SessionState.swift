/// The phase of a session as one value: how the engine reads the client's next bytes, what it is
/// waiting for, and what it knows that matters only in that phase. Each case carries its own data,
/// so two facts about the session cannot disagree (a relay that still parses commands, a QUIT
/// beside a held message, a consult outstanding while a body streams): the model is
/// swift-nio-ssh's `SSHConnectionStateMachine.State`.
///
/// The engine changes a case's payload in place (`InspectionEngine.withCommands` and friends take
/// the payload out, leaving `.modifying`, and put it back), so no phase is copied per input.
/// What is not here is not a phase: the pipeline of commands awaiting replies (`pending`, which
/// outlives every phase but `closed`), the transaction as the upstream accepted it, TLS, counters,
/// configuration, the first end reason recorded, and what the driver was last told.
enum SessionState: Sendable {
    /// `start(at:)` has not run.
    case notStarted
    /// Command lines. Before the client has been greeted too (the greeting heads the pipeline).
    case commands(Commands)
    /// A DATA body, until `CRLF.CRLF`.
    case content(Content)
    /// The octets of a BDAT chunk, counted, never parsed.
    case chunk(Chunk)
    /// The binary data after `354` to XEXCH50: relayed, not message content.
    case blob(remaining: Int)
    /// Both directions relayed blind (after STARTTLS passthrough or TURN/ATRN), until each leg
    /// has closed.
    case relay(clientOpen: Bool, upstreamOpen: Bool)
    /// The session winds down: the replies still owed go out, client input is discarded.
    case closing(Closing)
    /// `session-end` was logged.
    case closed
    /// Never seen from outside a mutation: the value while a payload is changed in place.
    case modifying

    /// What the next command-phase input is, or why client input waits.
    enum Next: Sendable {
        /// A command line.
        case command
        /// The line answering a `334` challenge (AUTH, X-EXPS).
        case authResponse
        /// A question is outstanding (`SessionAction.consult`): client input waits behind it, in
        /// order. `clientClosed`: the client closed meanwhile; its close is handled after the input.
        case consulting(ConsultHold, clientClosed: Bool)
        /// A held message is being written upstream (`releaseHeldContent`): input waits until it is.
        case releasing(clientClosed: Bool)
    }

    /// The upstream leg as the client phases see it.
    enum Upstream: Sendable, Equatable {
        case open
        /// The proxy closed it mid-message to abort the message (`closeServer`); its close is
        /// expected. The client's session goes on to its end of data, gets the proxy's reply, and
        /// every command after that is refused with a close.
        case aborting
        /// Its connection is gone.
        case closed
    }

    /// Where a message's content goes.
    enum Destination: Sendable, Equatable {
        case upstream
        /// To the driver (`holdContent`) for the end-of-message verdict (`holdsMessages`).
        case held
        /// Nowhere: the message was aborted (too large) or refused; its octets are read and dropped.
        case dropped
    }

    /// A BDAT message between and during its chunks.
    struct ChunkedMessage: Sendable {
        var progress = MessageProgress()
        var destination = Destination.upstream
    }

    struct Commands: Sendable {
        var next = Next.command
        /// A BDAT message between its chunks: what was read of it so far.
        var chunked: ChunkedMessage?
        /// `--tls terminate` after a client-only upgrade: only EHLO/HELO/NOOP/RSET/QUIT until the
        /// reply to a new hello (RFC 3207 §4.2).
        var helloRequired = false
        var upstream = Upstream.open
        /// The `pregreet` anomaly was logged (once a session).
        var pregreetReported = false
    }

    struct Content: Sendable {
        var scanner: DataBodyScanner
        var progress = MessageProgress()
        var destination: Destination
        /// The content handed to the driver (held, or copied with `copiesMessages`) has its
        /// dot-stuffing removed: whether its next octet starts a line.
        var atLineStart = true
        var upstream = Upstream.open
        /// Anomaly kinds already reported for this message (bare line ends once a message).
        var reported: Set<AnomalyKind> = []
    }

    struct Chunk: Sendable {
        var remaining: Int
        /// False for a refused chunk: read and dropped.
        var forwarding: Bool
        var isLast: Bool
        /// The command phase the chunk interrupts, resumed after its last octet (its `chunked`
        /// is the BDAT message the chunk belongs to).
        var commands: Commands
    }

    enum Closing: Sendable {
        /// QUIT went upstream: the client's further input is read and discarded (reported once)
        /// until it closes; the session ends as `quit` even if the upstream closes first.
        case quit(reportedTrailingInput: Bool, clientOpen: Bool)
        /// Client input is discarded unread (a disconnect, a refusal, a closed leg).
        case discarding(upstream: Upstream)
    }
}
