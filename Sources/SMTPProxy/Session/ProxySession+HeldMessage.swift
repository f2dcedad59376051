import Logging
import NIOCore
import NIOPosix
import SMTPCore
import SMTPServices

/// Milters (SPEC §12): the message the engine holds waits in a `MessageSpool` (memory up to
/// 1 MiB, then a 0600 file) while the milters read it, and goes upstream — as they left it — only
/// when the engine, after their verdict, asks for it (`releaseHeldContent`/`releaseHeldChunk`).
///
/// File I/O never runs on the event loop: appends that reach the file and reads of a message
/// that is in a file run on NIO's thread pool, in order. While more than
/// `HeldMessageState.maximumBytesWaiting` octets wait to be written, the client is not read
/// (`mayRead`), so a fast client cannot fill memory ahead of a slow disk; while a read is on the
/// pool, the release waits for it, and the upstream's writability paces the reads.
extension ProxySession {
    /// Held message content from the engine (dot-stuffing removed).
    func hold(_ bytes: ByteBuffer) {
        guard let milters = held.milters, held.failure == nil else { return }
        let spool = held.spool ?? milters.makeSpool()
        held.spool = spool
        if held.spoolWrites == nil, spool.staysInMemory(adding: bytes.readableBytes) {
            do {
                try spool.append(bytes)
            } catch {
                // Over max-message-size: the verdict will be a refusal.
                held.failure = error
            }
            return
        }
        let count = bytes.readableBytes
        held.bytesWaiting += count
        let previous = held.spoolWrites ?? eventLoop.makeSucceededVoidFuture()
        let write = previous.flatMap { [eventLoop] in
            NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { try spool.append(bytes) }
        }
        held.spoolWrites = write
        write.assumeIsolated().whenComplete { [self] result in
            held.bytesWaiting -= count
            if held.spoolWrites === write { held.spoolWrites = nil }
            if case .failure(let error) = result, held.spool === spool, held.failure == nil {
                // Over max-message-size or the spool's disk: the verdict will be a refusal.
                held.failure = error
            }
            clientHandler.resumeReadingIfAllowed()
        }
    }

    /// The end-of-message verdict for a held message: once its content is written, the milters
    /// read it (then any other consultant, a policy rule at END-OF-MESSAGE, is asked as usual).
    func judgeHeldMessage(_ id: ConsultID, _ request: ConsultRequest) -> EventLoopFuture<Verdict>? {
        guard held.milters != nil else { return nil }
        guard let writes = held.spoolWrites else { return judgeSpooledMessage(request) }
        // A failed write is in `held.failure` by now (its callback was registered first).
        return writes.flatMapError { [eventLoop] _ in eventLoop.makeSucceededVoidFuture() }.flatMap { [self] in
            judgeSpooledMessage(request)
        }
    }

    private func judgeSpooledMessage(_ request: ConsultRequest) -> EventLoopFuture<Verdict> {
        let milters = held.milters!
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
        held.contentInMemory = message.isInMemory
        continueRelease()
    }

    /// Writes held content while the upstream leg takes it; resumed by its writability, and by
    /// each read from the thread pool for a message in a file.
    func continueRelease() {
        guard held.content != nil, !held.reading else { return }
        guard upstreamOpen, let upstream = upstreamHandler?.context else {
            // The upstream went away mid-release: the engine learns it from the leg itself.
            held.content = nil
            discardHeldMessage()
            return
        }
        if held.contentInMemory {
            // A write or a flush below can change the upstream's writability, and its handler
            // calls this again: that nested call returns, and this loop goes on while the
            // upstream takes more (a nested loop once ended the release under this one's feet).
            guard !held.writing else { return }
            held.writing = true
            do {
                while upstream.channel.isWritable, held.content != nil {
                    guard let chunk = try held.content!.next() else {
                        held.writing = false
                        try releaseEnded(upstream)
                        return
                    }
                    try writeReleased(chunk, to: upstream)
                    if !upstream.channel.isWritable { flushPending() }
                }
            } catch {
                held.writing = false
                abortRelease(error, upstream)
                return
            }
            held.writing = false
            // Not writable: the upstream's writability resumes the release.
            if held.content != nil { flushPending() }
            return
        }
        guard upstream.channel.isWritable else {
            flushPending()
            return
        }
        // A few chunks per trip to the pool; the next trip when they are written and the
        // upstream still takes more.
        held.reading = true
        let content = held.content!
        NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { () throws -> (HeldMessage.Content, [ByteBuffer]) in
            var content = content
            var chunks: [ByteBuffer] = []
            for _ in 0..<HeldMessageState.chunksPerRead {
                guard let chunk = try content.next() else { break }
                chunks.append(chunk)
            }
            return (content, chunks)
        }.assumeIsolated().whenComplete { [self] result in
            held.reading = false
            // Discarded meanwhile (the upstream or the session went away).
            guard held.content != nil else { return }
            guard upstreamOpen, let upstream = upstreamHandler?.context else {
                continueRelease()
                return
            }
            do {
                let (content, chunks) = try result.get()
                held.content = content
                for chunk in chunks { try writeReleased(chunk, to: upstream) }
                if chunks.count < HeldMessageState.chunksPerRead { try releaseEnded(upstream) }
            } catch {
                abortRelease(error, upstream)
                return
            }
            if held.content != nil {
                flushPending()
                continueRelease()
            }
        }
    }

    private func writeReleased(_ chunk: ByteBuffer, to upstream: ChannelHandlerContext) throws {
        if let left = held.chunkOctetsLeft {
            // The size announced in BDAT must be the size written, or the upstream would read
            // message octets as commands.
            guard chunk.readableBytes <= left else { throw MessageSpool.Failure.io("held message longer than its BDAT size") }
            held.chunkOctetsLeft = left - chunk.readableBytes
        }
        upstream.write(NIOAny(chunk), promise: nil)
        upstreamNeedsFlush = true
    }

    /// The content is all written: checks a BDAT's size, then ends the release.
    private func releaseEnded(_ upstream: ChannelHandlerContext) throws {
        if let left = held.chunkOctetsLeft, left != 0 {
            throw MessageSpool.Failure.io("held message \(left) octets shorter than its BDAT size")
        }
        held.content = nil
        finishRelease()
    }

    private func abortRelease(_ error: any Error, _ upstream: ChannelHandlerContext) {
        logger.error("held message unreadable while forwarding it: \(error)")
        // The upstream has part of the content and no end of data: closing it delivers nothing.
        held.content = nil
        upstream.close(promise: nil)
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

    /// The transaction is over for the held message: its spool goes (a write still queued for
    /// it then fails harmlessly: a removed spool takes nothing more).
    func discardHeldMessage() {
        held.spool?.remove()
        held.spool = nil
        held.outcome = nil
        held.failure = nil
        held.chunkOctetsLeft = nil
        held.content = nil
    }
}
