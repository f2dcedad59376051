import struct NIOCore.ByteBuffer

/// BDAT with milters (`holdsMessages`, SPEC §12): the chunks are held the same way as DATA until
/// `LAST`. Each BDAT is answered by the proxy (`250 2.0.0 Ok: N octets received`, as Postfix does)
/// once its octets are in and every reply before it was sent; the chunk's octets go to the driver
/// as they are (`holdContent`, no dot-stuffing in BDAT). At `BDAT n LAST` the milters are asked
/// (END-OF-MESSAGE); an accepted message goes upstream as one `BDAT <size> LAST`
/// (`releaseHeldChunk`), so the upstream reads exactly the octets the milters read; a refused one
/// never reaches it (its transaction is reset, hidden from the client), as for DATA.
extension InspectionEngine {
    /// A BDAT command in a session that holds messages: its chunk is read into the hold.
    mutating func holdChunk(_ command: SMTPCommand, display: String, action: String, rule: String?, _ out: inout InspectionEffects) {
        event(.command(CommandRecord(verb: command.verb.name, arg: display, action: action, rule: rule)), &out)
        guard let chunk = BDATArgument(parsing: command.argument) else {
            // No size the proxy can trust: nothing is held and what follows is read as commands.
            anomaly(
                SMTPGrammar.words(command.argument).first.map { $0.utf8.count > 13 } == true ? .bdatOverflow : .malformedCommand,
                "BDAT \(command.argument): no chunk size the proxy can trust; following bytes read as commands", &out)
            enqueueLocal(.local("BDAT", SMTPReply(code: 501, "5.5.4 Syntax: BDAT count [LAST]")), &out)
            return
        }
        withCommands { commands in
            if commands.chunked == nil {
                var progress = MessageProgress()
                progress.chunked = true
                commands.chunked = SessionState.ChunkedMessage(progress: progress, destination: .held)
            }
        }
        var entry = PendingCommand.local("BDAT", SMTPReply(code: 250, "2.0.0 Ok: \(chunk.size) octets received"))
        entry.effect = .heldChunk(last: chunk.isLast, complete: chunk.size == 0)
        // What follows the last chunk waits for the milters' verdict on the message.
        entry.decidesClientMode = chunk.isLast
        if chunk.size > 0 { enterChunk(remaining: chunk.size, forwarding: true, isLast: chunk.isLast) }
        enqueueLocal(entry, &out)
    }

    /// The held chunk's octets are all in: its BDAT may be answered once it reaches the head of
    /// the pipeline.
    mutating func completeHeldChunk(_ out: inout InspectionEffects) {
        pending.completeHeldChunk()
        drainLocalReplies(&out)
    }

    /// The answer to a held BDAT that reached the head of the pipeline (`proposed` is the proxy's
    /// 250). Without a transaction the upstream accepted, the chunk is refused as Postfix refuses
    /// it, and so is every later chunk of that message. Nil for an accepted `LAST`: the
    /// end-of-message verdict answers it.
    mutating func answerHeldChunk(_ proposed: SMTPReply, last: Bool, _ out: inout InspectionEffects) -> SMTPReply? {
        var refusal: SMTPReply?
        let message = chunkedMessage
        if envelope == nil {
            refusal = SMTPReply(code: 503, "5.5.1 Error: need MAIL command")
        } else if envelope!.rcptTo.isEmpty {
            refusal = SMTPReply(code: 554, "5.5.1 Error: no valid recipients")
        } else if message?.destination == .dropped {
            refusal = SMTPReply(code: 503, "5.5.1 Error: message transfer already failed")
        }
        if let refusal {
            if let message, message.destination != .dropped {
                modifyChunkedMessage { $0?.destination = .dropped }
                out.append(.discardHeldContent)
            }
            if last { modifyChunkedMessage { $0 = nil } }
            return refusal
        }
        guard last else { return proposed }
        var progress = message?.progress ?? MessageProgress()
        progress.chunked = true
        modifyChunkedMessage { $0 = nil }
        let id = consultID()
        hold(.endOfMessage(id, progress, held: true))
        out.append(.consult(id, ConsultRequest(stage: .endOfMessage, policyRules: endOfMessagePolicyRules, facts: facts(size: progress.size))))
        return nil
    }

    /// A command that ends the client's chunked message before its `LAST` (RSET, MAIL, HELO…):
    /// the chunks held so far are dropped (nothing of them went upstream).
    mutating func abandonHeldChunks(before verb: SMTPVerb, _ out: inout InspectionEffects) {
        switch verb {
        case .rset, .mail, .helo, .ehlo, .data, .quit, .starttls:
            if chunkedMessage?.destination == .held { out.append(.discardHeldContent) }
            modifyChunkedMessage { $0 = nil }
        default:
            break
        }
    }

    /// Changes the BDAT message in progress, between its chunks or during one.
    mutating func modifyChunkedMessage(_ body: (inout SessionState.ChunkedMessage?) -> Void) {
        switch state {
        case .commands(var commands):
            state = .modifying
            body(&commands.chunked)
            state = .commands(commands)
        case .chunk(var chunk):
            state = .modifying
            body(&chunk.commands.chunked)
            state = .chunk(chunk)
        default:
            break
        }
    }
}
