import Logging
import NIOCore
import SMTPCore
import SMTPServices

/// Milters (SPEC §12): the message the engine holds waits in a `MessageSpool` (memory up to
/// 1 MiB, then a 0600 file) while the milters read it, and goes upstream — as they left it — only
/// when the engine, after their verdict, asks for it (`releaseHeldContent`).
extension ProxySession {
    /// Held message content from the engine (dot-stuffing removed).
    func hold(_ bytes: ByteBuffer) {
        guard let milters = held.milters, held.failure == nil else { return }
        let spool = held.spool ?? milters.makeSpool()
        held.spool = spool
        do {
            try spool.append(bytes)
        } catch {
            // Over max-message-size or the spool's disk: the verdict will be a refusal.
            held.failure = error
        }
    }

    /// The end-of-message verdict for a held message: the milters read it (then any other
    /// consultant, a policy rule at END-OF-MESSAGE, is asked as usual).
    func judgeHeldMessage(_ id: ConsultID, _ request: ConsultRequest) -> EventLoopFuture<Verdict>? {
        guard let milters = held.milters else { return nil }
        if let failure = held.failure {
            logger.warning("held message not kept: \(failure)")
            return eventLoop.makeSucceededFuture(
                Verdict(.reply(SMTPReply(code: 451, "4.3.0 Error: message could not be held, try again later")), events: [
                    .anomaly(AnomalyKind(rawValue: "spool-error"), detail: "\(failure)")
                ]))
        }
        let spool = held.spool ?? milters.makeSpool()
        held.spool = spool
        return milters.endOfMessage(spool, facts: request.facts, on: eventLoop).flatMap { [self] outcome in
            held.outcome = outcome
            var verdict = outcome.verdict
            if !outcome.envelope.isEmpty {
                verdict.sender = outcome.envelope.sender
                verdict.recipients = outcome.envelope.recipients(from: request.facts.recipients)
            }
            guard case .proceed = verdict.action else { return eventLoop.makeSucceededFuture(verdict) }
            return consultants.consult(request, at: inputTime, on: eventLoop, excluding: milters).map { ConsultantChain.combine(verdict, $0) }
        }
    }

    /// Writes the held message as fast as the upstream takes it: after the upstream's 354 to DATA,
    /// dot-stuffed and ended by `.CRLF`; or, for a message that came in BDAT chunks, as one
    /// `BDAT <size> LAST` followed by the content unchanged (the octets the milters read).
    func releaseHeldMessage(_ release: HeldMessageState.Release) {
        let message = held.outcome?.message
        if release == .chunk {
            let size = message?.size ?? 0
            held.chunkOctetsLeft = size
            if upstreamOpen, let upstream = upstreamHandler?.context {
                upstream.write(NIOAny(ByteBuffer(string: "BDAT \(size) LAST\r\n")), promise: nil)
                upstreamNeedsFlush = true
            }
        } else {
            held.chunkOctetsLeft = nil
        }
        guard let message else {
            // No milter verdict kept (a spool that never started): an empty message.
            held.content = nil
            finishRelease()
            return
        }
        held.content = message.content(dotStuffed: release == .data)
        continueRelease()
    }

    /// Writes held content while the upstream leg takes it; resumed by its writability.
    func continueRelease() {
        guard held.content != nil else { return }
        guard upstreamOpen, let upstream = upstreamHandler?.context else {
            // The upstream went away mid-release: the engine learns it from the leg itself.
            held.content = nil
            discardHeldMessage()
            return
        }
        do {
            while upstream.channel.isWritable, let chunk = try held.content!.next() {
                if let left = held.chunkOctetsLeft {
                    // The size announced in BDAT must be the size written, or the upstream would
                    // read message octets as commands.
                    guard chunk.readableBytes <= left else { throw MessageSpool.Failure.io("held message longer than its BDAT size") }
                    held.chunkOctetsLeft = left - chunk.readableBytes
                }
                upstream.write(NIOAny(chunk), promise: nil)
                upstreamNeedsFlush = true
            }
            if upstream.channel.isWritable, let left = held.chunkOctetsLeft, left != 0 {
                throw MessageSpool.Failure.io("held message \(left) octets shorter than its BDAT size")
            }
        } catch {
            logger.error("held message unreadable while forwarding it: \(error)")
            // The upstream has part of the content and no end of data: closing it delivers nothing.
            held.content = nil
            upstream.close(promise: nil)
            return
        }
        if upstream.channel.isWritable {
            held.content = nil
            finishRelease()
        } else {
            flushPending()
        }
    }

    private func finishRelease() {
        if held.chunkOctetsLeft == nil, upstreamOpen, let upstream = upstreamHandler?.context {
            upstream.write(NIOAny(ByteBuffer(string: ".\r\n")), promise: nil)
            upstreamNeedsFlush = true
        }
        discardHeldMessage()
        inputTime = .now()
        engine.heldContentReleased(at: inputTime, into: &effects)
        apply()
    }

    /// The transaction is over for the held message: its spool goes.
    func discardHeldMessage() {
        held.spool?.remove()
        held.spool = nil
        held.outcome = nil
        held.failure = nil
        held.chunkOctetsLeft = nil
    }
}

/// What a session keeps of the message it holds.
struct HeldMessageState {
    /// The milters to ask (nil: none configured; the engine then never holds).
    let milters: MilterConsultant?
    var spool: MessageSpool?
    var outcome: MilterMessageOutcome?
    var failure: (any Error)?
    /// The content being written upstream.
    var content: HeldMessage.Content?
    /// Releasing as BDAT: the octets of the announced size not yet written.
    var chunkOctetsLeft: Int?

    /// How a held message goes upstream (`SessionAction.releaseHeldContent`/`releaseHeldChunk`).
    enum Release {
        case data
        case chunk
    }
}
