import NIOCore
import NIOPosix
import SMTPCore
import SMTPServices

/// `replay --filters` with `milters:` (SPEC §12): "what would rspamd have said about last week's
/// traffic". Replay cannot hold a message — the server's replies come from the capture — so the
/// session replays as captured, and each captured DATA message is shown to the milters at its
/// end of data: the engine copies the content as it streams (`copiesMessages`), and the
/// END-OF-MESSAGE consult gives it to `MilterConsultant.endOfMessage`. The milters' answers are
/// the session's `milter` events; the message goes on as the capture shows (its `message`
/// event's `result` is the captured reply), whatever they said.
extension SessionTracker {
    /// Adds content the engine copied to the message being read.
    mutating func copyMessage(_ bytes: ByteBuffer) {
        guard let milters else { return }
        if messageCopy == nil { messageCopy = MessageCopy(spool: milters.makeSpool()) }
        guard messageCopy!.failure == nil else { return }
        do {
            try messageCopy!.spool.append(bytes)
        } catch {
            messageCopy!.failure = error
        }
    }

    /// The END-OF-MESSAGE verdict in replay: the milters read the captured message (their events
    /// kept, their verdict not applied), then the rest of the chain is asked as usual.
    mutating func judgeCapturedMessage(_ request: ConsultRequest) -> Verdict {
        guard let milters else { return consultants.answer(request, at: now) }
        let copy = messageCopy ?? MessageCopy(spool: milters.makeSpool())
        messageCopy = nil
        defer { copy.spool.remove() }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        var verdict = Verdict.proceed
        if let failure = copy.failure {
            verdict.events = [.anomaly(.milterError, detail: "spool: \(failure)")]
        } else if let outcome = try? milters.endOfMessage(copy.spool, facts: request.facts, on: loop).wait() {
            verdict.events = outcome.verdict.events
        }
        guard let rest = try? consultants.consult(request, at: now, on: loop, excluding: milters).wait() else { return verdict }
        return ConsultantChain.combine(verdict, rest)
    }
}
