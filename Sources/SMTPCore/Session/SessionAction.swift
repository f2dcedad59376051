import struct NIOCore.ByteBuffer

/// One thing the engine asks its driver to do. Every engine input returns its actions in order
/// (`InspectionEffects.actions`); the driver carries them out in that order and needs nothing
/// else from the engine to know what to do next.
public enum SessionAction: Sendable {
    /// Contact the upstream now (the session-start consult, if any, allowed the session).
    case connectUpstream
    /// Bytes for the upstream: zero-copy slices of what the client sent wherever they are unchanged.
    case writeToServer(ByteBuffer)
    /// Bytes for the client: the server's replies (possibly re-framed) and the proxy's own.
    case writeToClient(ByteBuffer)
    /// Log the next event of `InspectionEffects.events` (they are kept in their own array, in
    /// order, so that every action stays a few words wide: a driver walks both together).
    case log
    /// With `recordsClientTranscript`: client bytes as the engine consumed them, AUTH secrets
    /// replaced (what a recording shows of the client's side).
    case transcribe(ByteBuffer)
    /// `--tls terminate`: start TLS on this leg. For the client leg, everything written before it
    /// goes out in clear; for the upstream leg, before anything written after it.
    case startTLS(InspectionEngine.TLSLeg)
    /// Close the client connection once what was written before has gone out.
    case closeClient
    /// Close the upstream connection once what was written before has gone out. Mid-DATA this is
    /// the abort: the upstream never receives an end of data, so it delivers nothing.
    case closeServer
    /// Shut down the upstream's write side (the client half-closed after its last command).
    case shutdownServerOutput
    /// Stop reading from the client / read again (the engine holds what it cannot use yet).
    case pauseClientReads
    case resumeClientReads
    /// Arm the session's one timer for `wait` (`InspectionEngine.Wait`): the driver calls
    /// `timedOut` when `deadline` passes with no newer `setTimer`. `.nothing` cancels it.
    case setTimer(InspectionEngine.Wait, deadline: SMTPTimestamp?)
    /// Ask something outside; the engine holds the command (and all behind it) until
    /// `decided(id, …)`.
    indirect case consult(ConsultID, ConsultRequest)
    /// A tarpit verdict: call `decided(id, .proceed, …)` at `deadline` (on the driver's clock).
    case resumeAt(ConsultID, deadline: SMTPTimestamp)
    /// `holdsMessages`: message content (dot-stuffing removed, the end of data excluded) for the
    /// driver to hold until the end-of-message verdict.
    case holdContent(ByteBuffer)
    /// The upstream said 354 to the held message's DATA: write the held content (as the
    /// verdict left it), dot-stuffed, then `.CRLF`, and call `heldContentReleased` when it is written.
    case releaseHeldContent
    /// The held message will not be forwarded: drop it.
    case discardHeldContent
    /// A held message that came in BDAT chunks goes upstream: write `BDAT <size> LAST` (the size
    /// of the held content as the verdict left it), then that content as it is (no dot-stuffing),
    /// and call `heldContentReleased` when it is written. The upstream's reply is the client's
    /// reply to its BDAT LAST.
    case releaseHeldChunk
}
