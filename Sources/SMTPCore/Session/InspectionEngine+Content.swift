import struct NIOCore.ByteBuffer

extension InspectionEngine {
    /// Streams DATA body bytes through the scanner: forwarded as they come, never buffered.
    mutating func readDataBody(_ out: inout InspectionEffects) {
        // The phase is taken out and put back, so its scanner and header sniffer change in place.
        guard case .content(var content) = state else { return }
        state = .modifying
        var input = clientInput
        let original = configuration.recordsClientTranscript ? input : Self.emptyBuffer
        clientInput = Self.emptyBuffer
        var progress = content.progress
        content.progress = MessageProgress()
        var forwarding = content.destination != .dropped
        let holds = content.destination == .held
        let copies = configuration.copiesMessages && !holds
        // Violations and the size limit, in stream order (so in the same order whatever the
        // segmentation): the scanner emits the bytes before a violation before reporting it.
        enum Note { case violation(DataBodyScanner.Violation), tooLarge }
        var notes: [Note] = []
        let limit = settings.maxMessageSize.map { $0 + 3 }  // + the final ".\r\n"
        let enforce = !configuration.dryRun
        var exceeded = false
        var emitted = content.scanner.emittedBytes
        var unstuffer = DotUnstuffer(atLineStart: content.atLineStart)
        if copies && emitted == 0 {
            // A new message: its copy starts empty.
            unstuffer = DotUnstuffer()
            out.append(.discardHeldContent)
        }
        func send(_ slice: ByteBuffer) {
            if !holds { out.append(.writeToServer(slice)) }
            if holds || copies { unstuffer.unstuff(slice) { out.append(.holdContent($0)) } }
        }

        let outcome = content.scanner.scan(
            &input,
            emit: { slice in
                if !progress.headers.isDone {
                    slice.withUnsafeReadableBytes { progress.headers.feed($0) }
                }
                let before = emitted
                emitted += slice.readableBytes
                if forwarding, let limit, emitted > limit {
                    if !exceeded { notes.append(.tooLarge) }
                    exceeded = true
                    if enforce {
                        // The upstream gets the content up to the limit, then is aborted: the same
                        // octets whatever the segmentation.
                        forwarding = false
                        if before < limit { send(slice.getSlice(at: slice.readerIndex, length: limit - before)!) }
                    }
                }
                if forwarding { send(slice) }
            },
            report: { notes.append(.violation($0)) }
        )
        if configuration.recordsClientTranscript {
            transcribe(original.getSlice(at: original.readerIndex, length: input.readerIndex - original.readerIndex)!, &out)
        }
        clientInput = input
        progress.size = content.scanner.messageSize
        content.atLineStart = unstuffer.atLineStart
        for note in notes {
            switch note {
            case .violation(let violation):
                reportViolation(violation, reported: &content.reported, &out)
            case .tooLarge:
                guard content.reported.insert(.messageTooLarge).inserted else { continue }
                anomaly(.messageTooLarge, "message content over max-message-size \(settings.maxMessageSize!)", &out)
                if enforce {
                    if holds {
                        // Nothing went upstream: the held part is dropped, the session goes on.
                        out.append(.discardHeldContent)
                    } else {
                        // The upstream's transaction is aborted mid-content: its connection is
                        // closed without an end of data, so it delivers nothing. The client's
                        // session goes on to its end of data, gets 552, and is then closed.
                        content.upstream = .aborting
                        out.append(.closeServer)
                        setEndReason(.messageTooLarge)
                    }
                    content.destination = .dropped
                }
            }
        }

        switch outcome {
        case .needMore:
            content.progress = progress
            state = .content(content)
        case .endOfData:
            state = .commands(SessionState.Commands(upstream: content.upstream))
            switch content.destination {
            case .dropped:
                var entry = PendingCommand.local(".", SMTPReply(code: 552, "5.3.4 Error: message size exceeds fixed limit"))
                entry.effect = .endOfMessage(progress)
                enqueueLocal(entry, &out)
            case .upstream where endOfMessagePolicyRules.isEmpty && (configuration.consultStages.isEmpty || !configuration.consultStages.contains(.endOfMessage)):
                pending.append(PendingCommand(verb: ".", effect: .endOfMessage(progress), forwardedAt: now))
            case .upstream, .held:
                // The end of data waits for the verdict: everything before it went upstream (or,
                // held, to the driver; its dot-stuffing removed, the end of data is `CRLF`).
                let held = holds
                withholdEndOfData(server: held ? 0 : 3, held: held || copies ? 2 : 0, &out)
                let id = consultID()
                hold(.endOfMessage(id, progress, held: held))
                out.append(.consult(id, ConsultRequest(stage: .endOfMessage, policyRules: endOfMessagePolicyRules, facts: facts(size: progress.size))))
            }
        case .rejected(let violation):
            state = .commands(SessionState.Commands(upstream: content.upstream))
            let what: String
            switch violation {
            case .nul: what = "NUL"
            case .bareCR: what = "bare <CR>"
            default: what = "bare <LF>"
            }
            rejectAndClose(SMTPReply(code: 550, "5.5.2 Error: \(what) received"), reason: .bareNewlineRejected, &out)
        }
    }

    private mutating func reportViolation(
        _ violation: DataBodyScanner.Violation, reported: inout Set<AnomalyKind>, _ out: inout InspectionEffects
    ) {
        let kind: AnomalyKind
        let detail: String
        let normalized = settings.bareNewline == .normalize
        switch violation {
        case .bareLF:
            kind = .bareLF
            detail = normalized ? "bare <LF> in DATA, forwarded as <CR><LF>" : "bare <LF> in DATA"
        case .bareCR:
            kind = .bareCR
            detail = normalized ? "bare <CR> in DATA, forwarded as <CR><LF>" : "bare <CR> in DATA"
        case .nul:
            kind = .nul
            detail = normalized ? "NUL in DATA, forwarded as a space" : "NUL in DATA"
        case .smuggling(let before, let after):
            anomaly(
                .smugglingAttempt,
                "\(before).\(after) in DATA is not an end of data" + (normalized ? "; forwarded dot-stuffed" : ""), &out)
            return
        }
        if reported.insert(kind).inserted {
            anomaly(kind, detail, &out)
        }
    }

    /// Aborts the upstream's transaction after the content went upstream (a refused end of data):
    /// its connection is closed without an end of data, so it delivers nothing. Every command the
    /// client sends next is refused with a close.
    mutating func upstreamAbort(reason: EndReason, _ out: inout InspectionEffects) {
        withCommands { $0.upstream = .aborting }
        out.append(.closeServer)
        setEndReason(reason)
    }

    /// Takes the final `.CRLF` back out of this batch's writes to the upstream (`server` octets)
    /// and its unstuffed `CRLF` out of the content handed to the driver (`held` octets). The
    /// scanner emits it whole in the call that finds it (the `.` and CR it holds back between
    /// calls included), so it is the last octets of each kind this batch produced.
    mutating func withholdEndOfData(server: Int, held: Int, _ out: inout InspectionEffects) {
        var serverLeft = server
        var heldLeft = held
        var index = out.actions.endIndex
        while serverLeft + heldLeft > 0, index > out.actions.startIndex {
            index -= 1
            switch out.actions[index] {
            case .writeToServer(var bytes):
                let cut = min(serverLeft, bytes.readableBytes)
                bytes.moveWriterIndex(to: bytes.writerIndex - cut)
                serverLeft -= cut
                out.actions[index] = .writeToServer(bytes)
            case .holdContent(var bytes):
                let cut = min(heldLeft, bytes.readableBytes)
                bytes.moveWriterIndex(to: bytes.writerIndex - cut)
                heldLeft -= cut
                out.actions[index] = .holdContent(bytes)
            default:
                continue
            }
        }
    }

    /// The verdict on a message whose end of data was withheld: forward it, or refuse the message
    /// (the upstream, which has the content but no end of data, is closed so it delivers nothing).
    mutating func endMessage(_ progress: MessageProgress, held: Bool, verdict: Verdict, _ out: inout InspectionEffects) {
        if held {
            endHeldMessage(progress, verdict: verdict, &out)
            return
        }
        if !verdict.prependHeaders.isEmpty {
            anomaly(.policyUnsupported, "PREPEND at the end of a message: the content has been forwarded; header not added", &out)
        }
        switch verdict.action {
        case .proceed, .rewrite, .delay:
            out.append(.writeToServer(ByteBuffer(string: ".\r\n")))
            pending.append(PendingCommand(verb: ".", effect: .endOfMessage(progress), forwardedAt: now))
        case .reply(let reply), .disconnect(let reply):
            if configuration.dryRun {
                out.append(.writeToServer(ByteBuffer(string: ".\r\n")))
                pending.append(PendingCommand(verb: ".", effect: .endOfMessage(progress), forwardedAt: now))
                return
            }
            upstreamAbort(reason: .messageRefused, &out)
            var closes = false
            if case .disconnect = verdict.action { closes = true }
            var entry = PendingCommand.local(".", reply, closeAfterReply: closes)
            entry.effect = .endOfMessage(progress)
            enqueueLocal(entry, &out)
        }
    }

    /// Passes BDAT chunk octets through, counted and never parsed.
    mutating func readChunk(_ out: inout InspectionEffects) {
        guard case .chunk(var chunk) = state else { return }
        state = .modifying
        let count = min(chunk.remaining, clientInput.readableBytes)
        let slice = clientInput.readSlice(length: count)!
        transcribe(slice, &out)
        if chunk.forwarding {
            var message = chunk.commands.chunked ?? SessionState.ChunkedMessage()
            chunk.commands.chunked = nil
            switch message.destination {
            case .upstream: out.append(.writeToServer(slice))
            // BDAT content is the message as it is: no dot-stuffing to remove.
            case .held: out.append(.holdContent(slice))
            case .dropped: break
            }
            message.progress.size += count
            if !message.progress.headers.isDone {
                slice.withUnsafeReadableBytes { message.progress.headers.feed($0) }
            }
            chunk.commands.chunked = message
        }
        guard count == chunk.remaining else {
            chunk.remaining -= count
            state = .chunk(chunk)
            return
        }
        var commands = chunk.commands
        if chunk.forwarding, let message = commands.chunked, message.destination != .upstream {
            state = .commands(commands)
            completeHeldChunk(&out)
            return
        }
        if chunk.forwarding && chunk.isLast {
            pending.completeLastChunk(commands.chunked?.progress ?? MessageProgress())
            commands.chunked = nil
        }
        state = .commands(commands)
    }
}

extension InspectionEngine {
    /// The verdict on a held message. Accepted: the upstream gets the transaction as the verdict
    /// left it (a changed envelope is sent again after an RSET it never shows the client), then
    /// DATA, and at its 354 the driver writes the content. Refused or discarded: the upstream's
    /// transaction is reset (hidden from the client), the client gets the verdict's reply, and
    /// the session goes on.
    mutating func endHeldMessage(_ progress: MessageProgress, verdict: Verdict, _ out: inout InspectionEffects) {
        var accepted = configuration.dryRun
        var closes = false
        var refusal: SMTPReply?
        switch verdict.action {
        case .proceed, .rewrite, .delay: accepted = true
        case .reply(let reply): refusal = reply
        case .disconnect(let reply):
            refusal = reply
            closes = !configuration.dryRun
        }
        if !verdict.prependHeaders.isEmpty {
            anomaly(.policyUnsupported, "PREPEND at the end of a held message: header not added", &out)
        }
        guard accepted, !closes else {
            out.append(.discardHeldContent)
            var entry = PendingCommand.local(progress.chunked ? "BDAT" : ".", refusal!, closeAfterReply: closes)
            entry.effect = .endOfMessage(progress)
            if closes { setEndReason(.milterShutdown) }
            // The message event names the transaction the client sent; then the upstream's copy
            // of it is reset, before anything the client sends next.
            enqueueLocal(entry, &out)
            if !closes { internalCommand("RSET", effect: .rset, &out) }
            return
        }
        if verdict.sender != nil || verdict.recipients != nil, let current = envelope {
            let sender = verdict.sender ?? current.mailFrom
            internalCommand("RSET", effect: .rset, &out)
            internalCommand("MAIL FROM:<\(Self.pathText(sender))>", effect: .mail(path: sender), &out)
            for recipient in verdict.recipients ?? current.rcptTo {
                internalCommand("RCPT TO:<\(Self.pathText(recipient))>", effect: .rcpt(path: recipient), &out)
            }
        }
        withCommands { $0.next = .releasing(clientClosed: false) }
        if progress.chunked {
            // The upstream reads exactly the octets the milters read (a BDAT message may hold
            // bare line ends or binary content that DATA could not carry unchanged).
            out.append(.releaseHeldChunk)
            pending.append(PendingCommand(verb: "BDAT", effect: .bdat(last: true, progress: progress), forwardedAt: now))
            return
        }
        out.append(.writeToServer(ByteBuffer(string: "DATA\r\n")))
        pending.append(PendingCommand(verb: "DATA", effect: .releaseData(progress), isInternal: true, forwardedAt: now))
    }

    /// A command only the proxy sends; its reply is not shown to the client.
    mutating func internalCommand(_ line: String, effect: PendingCommand.Effect, _ out: inout InspectionEffects) {
        out.append(.writeToServer(ByteBuffer(string: line + "\r\n")))
        let verb = line.prefix { $0 != " " }
        pending.append(PendingCommand(verb: String(verb), effect: effect, isInternal: true, forwardedAt: now))
    }

    /// An address as a milter gave it, safe on a command line (no line breaks, no `<>`).
    static func pathText(_ address: String) -> String {
        var text = address
        if text.hasPrefix("<") && text.hasSuffix(">") && text.count >= 2 { text = String(text.dropFirst().dropLast()) }
        return String(text.unicodeScalars.filter { $0 != "\r" && $0 != "\n" && $0 != "\0" && $0 != "<" && $0 != ">" })
    }
}
