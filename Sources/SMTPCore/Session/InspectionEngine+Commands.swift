import struct NIOCore.ByteBuffer

extension InspectionEngine {
    /// Reads as much client input as the current phase allows.
    mutating func processClientInput(_ out: inout InspectionEffects) {
        while clientInput.readableBytes > 0 {
            let authResponse: Bool
            switch state {
            case .notStarted, .modifying:
                return
            case .closed, .closing(.discarding), .closing(.quit(_, clientOpen: false)), .relay(clientOpen: false, _):
                discardClientInput(&out)
                return
            case .relay(clientOpen: true, _):
                out.append(.writeToServer(clientInput))
                discardClientInput(&out)
                return
            case .content:
                readDataBody(&out)
                continue
            case .chunk:
                readChunk(&out)
                continue
            case .blob(let remaining):
                let count = min(remaining, clientInput.readableBytes)
                let slice = clientInput.readSlice(length: count)!
                out.append(.writeToServer(slice))
                transcribe(slice, &out)
                state = remaining == count ? .commands(SessionState.Commands()) : .blob(remaining: remaining - count)
                continue
            case .closing(.quit(let reported, clientOpen: true)):
                if pending.count >= SMTPDefaults.maximumPipelinedCommands { return }
                if !reported {
                    state = .closing(.quit(reportedTrailingInput: true, clientOpen: true))
                    anomaly(.pipelinedAfterQuit, "client sent more after QUIT; discarded", &out)
                }
                discardClientInput(&out)
                return
            case .commands(let commands):
                switch commands.next {
                case .command: authResponse = false
                case .authResponse: authResponse = true
                case .consulting, .releasing:
                    // A verdict is outstanding (or a held message is being written upstream):
                    // what follows waits, in order (bounded by `wantsClientInput`).
                    return
                }
            }
            if pending.modeDecisions > 0 {
                if clientInput.readableBytes > SMTPDefaults.maximumHeldClientBytes {
                    anomaly(.pipeliningOverflow, "\(clientInput.readableBytes) octets sent before the reply that decides how to read them", &out)
                    // In its place in the pipeline (as `bare-newline: reject`): the replies
                    // owed for earlier commands, a message's end of data among them, reach
                    // the client and the log before both sides close.
                    setEndReason(.pipeliningOverflow)
                    stopReadingClient()
                    discardClientInput(&out)
                    enqueueLocal(.local("", SMTPReply(code: 421, "4.5.0 Error: too much pipelined input, closing"), closeAfterReply: true), &out)
                }
                return
            }
            if pending.count >= SMTPDefaults.maximumPipelinedCommands { return }
            guard let frame = framer.next(from: &clientInput) else { return }
            switch frame {
            case .overlong(let length):
                handleOverlongLine(length: length, authResponse: authResponse, &out)
            case .line(let line):
                if authResponse {
                    handleAuthResponse(line, &out)
                } else {
                    handleCommandLine(line, &out)
                }
            }
        }
    }

    private mutating func handleOverlongLine(length: Int, authResponse: Bool, _ out: inout InspectionEffects) {
        anomaly(.lineTooLong, "\(length) octets, over the engine's bound of \(framer.maximumLength)", &out)
        if authResponse {
            // The upstream waits for a response: cancel the exchange (RFC 4954 §4) instead.
            withCommands { $0.next = .command }
            forwardAuthResponse(ByteBuffer(string: "*\r\n"), display: "*", &out)
            return
        }
        commandCount += 1
        event(.command(CommandRecord(verb: "", arg: "[\(length) octets]", action: "reject")), &out)
        enqueueLocal(.local("", SMTPReply(code: 500, "5.5.2 Error: line too long")), &out)
    }

    // MARK: - Commands

    private mutating func handleCommandLine(_ line: CommandLineFramer.Line, _ out: inout InspectionEffects) {
        commandCount += 1
        let command = SMTPGrammar.parseCommandLine(line.content)
        if configuration.recordsClientTranscript {
            let auth = (command.verb == .auth || command.verb == .xExps) ? AuthArgument(parsing: command.argument) : nil
            if let auth, let response = auth.initialResponse, response != "=" {
                transcribe(ByteBuffer(string: "\(command.verb.name) \(auth.mechanism) \(AuthArgument.redactedResponse)\r\n"), &out)
            } else {
                transcribe(line.raw, &out)
            }
        }
        let verb = command.verb.name
        let display = Self.displayArgument(command)
        // MAIL and RCPT arguments are parsed once here, for the keyword gate, the canonical
        // argument, the limits and the pending entry alike.
        let transaction = command.transactionArgument

        if !line.isCanonical {
            let what = line.containsNUL ? "NUL" : line.containsBareCR ? "bare <CR>" : "bare <LF>"
            let kind: AnomalyKind = line.containsNUL ? .nul : line.containsBareCR ? .bareCR : .bareLF
            anomaly(kind, "\(what) in the \(verb.isEmpty ? "empty" : verb) command line", &out)
            if settings.bareNewline == .reject {
                // In its place in the pipeline, like `disconnect`: the replies owed for earlier
                // commands (a message's end of data among them) reach the client and the log
                // first, and only then are both sides closed. Closing at once lost the reply to a
                // message the upstream had already accepted (found by the differential test).
                event(.command(CommandRecord(verb: verb, arg: display, action: "reject")), &out)
                setEndReason(.bareNewlineRejected)
                stopReadingClient()
                discardClientInput(&out)
                enqueueLocal(.local(verb, SMTPReply(code: 550, "5.5.2 Error: \(what) received"), closeAfterReply: true), &out)
                return
            }
            if line.containsNUL || line.containsBareCR {
                event(.command(CommandRecord(verb: verb, arg: display, action: "reject")), &out)
                enqueueLocal(.local(verb, SMTPReply(code: 500, "5.5.2 Error: \(what) received in a command")), &out)
                return
            }
        }
        if upstreamLeg != .open {
            // The upstream was closed to abort a message: nothing more goes to it.
            event(.command(CommandRecord(verb: verb, arg: display, action: "reject")), &out)
            if command.verb == .quit {
                enqueueLocal(.local(verb, SMTPReply(code: 221, "2.0.0 Bye"), closeAfterReply: true), &out)
            } else {
                enqueueLocal(.local(verb, SMTPReply(code: 421, "4.3.0 Error: transaction aborted, closing"), closeAfterReply: true), &out)
            }
            return
        }
        if let maximum = settings.maxLineLength, line.raw.readableBytes > maximum {
            anomaly(.lineTooLong, "\(verb) line of \(line.raw.readableBytes) octets (max-line-length \(maximum))", &out)
            if !refuse(command, display: display, reply: SMTPReply(code: 500, "5.5.2 Error: line too long"), rule: "limits.max-line-length", &out) {
                forward(command, transaction, line: line, display: display, action: "would-reject", rule: "limits.max-line-length", &out)
            }
            return
        }
        if !command.verb.isKnown {
            anomaly(.unknownCommand, verb.isEmpty ? "empty command line" : verb, &out)
        }
        if let refusal = strippedKeywordRefusal(command, transaction: transaction) {
            anomaly(.strippedKeywordUsed, "\(refusal.use.parameter ?? verb) needs \(refusal.use.keyword), which was stripped", &out)
            // XCLIENT is refused under --dry-run too: a preview must not let a client be anyone.
            if refuse(command, display: display, reply: refusal.reply, rule: refusal.rule, evenInDryRun: refusal.rule == Self.xclientRule, &out) {
                return
            }
            forward(command, transaction, line: line, display: display, action: "would-reject", rule: refusal.rule, &out)
            return
        }

        if configuration.tlsMode == .terminate, handleCommandUnderTermination(command, display: display, &out) { return }

        if command.verb == .auth { authentication.begin(AuthArgument(parsing: command.argument)) }
        var canonical = command
        canonical.argument = command.canonicalArgument(transaction: transaction)
        let decision = policy.decide(canonical, client: configuration.client)
        if let note = decision.anomaly { anomaly(note.kind, note.detail, &out) }
        // Most sessions consult nothing: the stage (string comparisons of the verb) only when some.
        if !decision.consult.isEmpty || (!configuration.consultStages.isEmpty && configuration.consultStages.contains(ConsultStage(verb: command.verb))) {
            let stage = ConsultStage(verb: command.verb)
            let id = consultID()
            hold(.command(id, HeldCommand(command: command, transaction: transaction, line: line, display: display, decision: decision)))
            let request = ConsultRequest(
                stage: stage, verb: command.verb, argument: display, path: transaction?.path, policyRules: decision.consult,
                facts: facts(size: command.verb == .mail ? Self.declaredSize(transaction) : nil))
            out.append(.consult(id, request))
            return
        }
        act(command, transaction, line: line, display: display, decision: decision, verdict: nil, &out)
    }

    /// `act` on a command that was held for a verdict.
    mutating func act(on held: HeldCommand, verdict: Verdict?, _ out: inout InspectionEffects) {
        if held.command.verb == .authResponse { return act(onAuthenticationResponse: held, verdict: verdict, &out) }
        act(held.command, held.transaction, line: held.line, display: held.display, decision: held.decision, verdict: verdict, &out)
    }

    /// Carries out the rule set's decision on a command, after the verdict of a consult on it (if
    /// one was asked): a verdict other than `proceed` overrides the rule set's decision.
    mutating func act(
        _ command: SMTPCommand, _ transaction: MailTransactionArgument?, line: CommandLineFramer.Line, display: String,
        decision: PolicyDecision, verdict: Verdict?, _ out: inout InspectionEffects
    ) {
        let verb = command.verb.name
        var decision = decision
        if let verdict {
            if command.verb == .mail { prependHeaders.removeAll() }
            prependHeaders += verdict.prependHeaders
            pendingPolicyAnswer = verdict.policyAnswer
            switch verdict.action {
            case .proceed, .delay:
                if decision.rule == nil, let rule = verdict.rule { decision.rule = rule }
            case .reply(let reply):
                decision = PolicyDecision(action: .reject(reply), rule: verdict.rule ?? decision.rule)
            case .rewrite(let argument):
                decision = PolicyDecision(action: .rewrite(argument: argument), rule: verdict.rule ?? decision.rule)
            case .disconnect(let reply):
                decision = PolicyDecision(action: .disconnect(reply), rule: verdict.rule ?? decision.rule)
            }
        }
        defer { pendingPolicyAnswer = nil }
        let logRule = decision.loggedBy.first
        switch decision.action {
        case .forward, .allow:
            if applyLimits(command, transaction, display: display, line: line, logRule: decision.rule ?? logRule, &out) { return }
            forward(command, transaction, line: line, display: display, action: "forward", rule: decision.rule ?? logRule, &out)
        case .reject(let reply):
            if refuse(command, display: display, reply: reply ?? Self.defaultRejection(for: command.verb), rule: decision.rule, &out) {
                return
            }
            forward(command, transaction, line: line, display: display, action: "would-reject", rule: decision.rule, &out)
        case .disconnect(let reply):
            let reply = reply ?? SMTPReply(code: 421, "4.7.0 Service not available, closing transmission channel")
            if configuration.dryRun {
                forward(command, transaction, line: line, display: display, action: "would-disconnect", rule: decision.rule, &out)
                return
            }
            event(.command(CommandRecord(verb: verb, arg: display, action: "disconnect", rule: decision.rule)), &out)
            setEndReason(.disconnect)
            stopReadingClient()
            discardClientInput(&out)
            enqueueLocal(.local(verb, reply, closeAfterReply: true), &out)
        case .rewrite(let argument):
            var rewritten = command
            rewritten.argument = argument
            if rewritten.line.utf8.contains(where: { $0 == SMTPGrammar.cr || $0 == SMTPGrammar.lf || $0 == SMTPGrammar.nul }) {
                anomaly(.malformedCommand, "rewrite by \(decision.rule ?? "?") produced a line break; refused", &out)
                _ = refuse(command, display: display, reply: SMTPReply(code: 451, "4.3.0 Error: rewrite failed"), rule: decision.rule, &out)
                return
            }
            if configuration.dryRun {
                forward(command, transaction, line: line, display: display, action: "would-rewrite", rule: decision.rule, &out)
                return
            }
            let rewrittenTransaction = rewritten.transactionArgument
            if applyLimits(rewritten, rewrittenTransaction, display: display, line: line, logRule: decision.rule, &out) { return }
            forward(rewritten, rewrittenTransaction, line: nil, display: display, action: "rewrite", rule: decision.rule, original: command, &out)
        }
    }

    /// Refuses a command with a reply of the proxy's own, in pipeline order. Returns false under
    /// `--dry-run` (the caller then forwards it with a `would-…` action), unless `evenInDryRun`.
    private mutating func refuse(
        _ command: SMTPCommand, display: String, reply: SMTPReply, rule: String?, evenInDryRun: Bool = false, _ out: inout InspectionEffects
    ) -> Bool {
        if configuration.dryRun && !evenInDryRun { return false }
        event(.command(CommandRecord(verb: command.verb.name, arg: display, action: "reject", rule: rule)), &out)
        enqueueLocal(.local(command.verb.name, reply), &out)
        if command.verb == .bdat, let chunk = BDATArgument(parsing: command.argument), chunk.size > 0 {
            // The chunk follows whatever the reply: read it and drop it.
            enterChunk(remaining: chunk.size, forwarding: false, isLast: chunk.isLast)
        }
        return true
    }

    /// Built-in limits from `settings.limits`. Returns true when the command was refused.
    /// `transaction` is the command's `transactionArgument`.
    private mutating func applyLimits(
        _ command: SMTPCommand, _ transaction: MailTransactionArgument?, display: String, line: CommandLineFramer.Line, logRule: String?,
        _ out: inout InspectionEffects
    ) -> Bool {
        switch command.verb {
        case .mail:
            guard let maximum = settings.maxMessageSize,
                let size = transaction?.parameter("SIZE")?.value,
                let declared = SMTPGrammar.parseDecimal(size, maximum: Int.max), declared > maximum
            else { return false }
            anomaly(.messageTooLarge, "MAIL declares SIZE=\(declared), over max-message-size \(maximum)", &out)
            if refuse(command, display: display, reply: SMTPReply(code: 552, "5.3.4 Error: message size exceeds fixed limit"), rule: "limits.max-message-size", &out) { return true }
            forward(command, transaction, line: line, display: display, action: "would-reject", rule: "limits.max-message-size", &out)
            return true
        case .rcpt:
            guard let maximum = settings.maxRecipients, recipientsForwarded >= maximum else { return false }
            if refuse(command, display: display, reply: SMTPReply(code: 452, "4.5.3 Error: too many recipients"), rule: "limits.max-recipients", &out) { return true }
            forward(command, transaction, line: line, display: display, action: "would-reject", rule: "limits.max-recipients", &out)
            return true
        case .bdat:
            let sent = chunkedMessage
            guard let maximum = settings.maxMessageSize, let chunk = BDATArgument(parsing: command.argument),
                (sent?.progress.size ?? 0) + chunk.size > maximum
            else { return false }
            anomaly(.messageTooLarge, "BDAT chunks reach \((sent?.progress.size ?? 0) + chunk.size) octets, over max-message-size \(maximum)", &out)
            guard !configuration.dryRun else { return false }
            let progress = sent?.progress ?? MessageProgress()
            if let sent, sent.destination != .upstream {
                // Nothing went upstream; the chunks held so far are dropped.
                out.append(.discardHeldContent)
            }
            withCommands { $0.chunked = nil }
            if progress.size > 0 {
                // Earlier chunks reached the upstream: abort its transaction.
                out.append(.writeToServer(ByteBuffer(string: "RSET\r\n")))
                pending.append(PendingCommand(verb: "RSET", effect: .rset, isInternal: true))
            }
            event(.command(CommandRecord(verb: "BDAT", arg: display, action: "reject", rule: "limits.max-message-size")), &out)
            var entry = PendingCommand.local("BDAT", SMTPReply(code: 552, "5.3.4 Error: message size exceeds fixed limit"))
            entry.effect = .endOfMessage(progress)
            enqueueLocal(entry, &out)
            if chunk.size > 0 { enterChunk(remaining: chunk.size, forwarding: false, isLast: chunk.isLast) }
            return true
        default:
            return false
        }
    }

    /// Sends a command upstream (the client's exact bytes unless rewritten or re-framed) and
    /// records what its reply will mean. `transaction` is the command's `transactionArgument`.
    private mutating func forward(
        _ command: SMTPCommand, _ transaction: MailTransactionArgument?, line: CommandLineFramer.Line?, display: String, action: String, rule: String?,
        original: SMTPCommand? = nil, _ out: inout InspectionEffects
    ) {
        let verb = command.verb
        if configuration.holdsMessages {
            if verb == .bdat {
                holdChunk(command, display: display, action: action, rule: rule, &out)
                return
            }
            if chunkedMessage?.progress.chunked == true { abandonHeldChunks(before: verb, &out) }
        }
        if verb == .data, configuration.holdsMessages {
            // Milters read the message before the upstream does: the proxy answers DATA.
            event(.command(CommandRecord(verb: verb.name, arg: display, action: action, rule: rule)), &out)
            var entry = PendingCommand.local(verb.name, SMTPReply(code: 354, "End data with <CR><LF>.<CR><LF>"))
            entry.effect = .heldData
            entry.decidesClientMode = true
            enqueueLocal(entry, &out)
            return
        }
        var forwardedText: String?
        var line = line
        var command = command
        let clientArgument = command.argument
        if verb == .bdat, !prependHeaders.isEmpty, chunkedMessage == nil, let chunk = BDATArgument(parsing: command.argument) {
            // A verdict's header lines go first in the message: the first chunk grows by them.
            let headers = Self.prependedHeaderBytes(prependHeaders)
            command.argument = "\(chunk.size + headers.readableBytes)" + (chunk.isLast ? " LAST" : "")
            line = nil
            forwardedText = command.line
            out.append(.writeToServer(ByteBuffer(string: command.line + "\r\n")))
            out.append(.writeToServer(headers))
            prependHeaders.removeAll()
        } else if let line, line.isCanonical {
            out.append(.writeToServer(line.raw))
        } else if let line {
            var bytes = line.content
            bytes.writeString("\r\n")
            out.append(.writeToServer(bytes))
        } else if forwardedText == nil {
            out.append(.writeToServer(ByteBuffer(string: command.line + "\r\n")))
            forwardedText = verb == .auth ? "AUTH " + AuthArgument(parsing: command.argument).redacted : command.line
        }
        event(.command(CommandRecord(verb: verb.name, arg: display, action: action, rule: rule, forwarded: forwardedText)), &out)

        var entry = PendingCommand(verb: verb.name, effect: .none, forwardedAt: now)
        switch verb {
        case .helo:
            entry.effect = .helo
            heloName = command.argument
            sawEHLO = false
            prependHeaders.removeAll()
        case .ehlo:
            entry.effect = .ehlo
            heloName = command.argument
            sawEHLO = true
            prependHeaders.removeAll()
        case .mail:
            entry.effect = .mail(path: transaction?.path ?? command.argument)
            recipientsForwarded = 0
            transactionCount += 1
            forwardedMail = transaction
        case .rcpt:
            entry.effect = .rcpt(path: transaction?.path ?? command.argument)
            recipientsForwarded += 1
        case .rset:
            entry.effect = .rset
            prependHeaders.removeAll()
            forwardedMail = nil
        case .data:
            entry.effect = .data
            entry.decidesClientMode = true
        case .bdat:
            // The chunk as the client sends it (its size, not the one a prepended header grew).
            if let chunk = BDATArgument(parsing: clientArgument) {
                entry.effect = .bdat(last: chunk.isLast, progress: nil)
                withCommands { if $0.chunked == nil { $0.chunked = SessionState.ChunkedMessage() } }
                if chunk.size > 0 {
                    enterChunk(remaining: chunk.size, forwarding: true, isLast: chunk.isLast)
                } else if chunk.isLast {
                    entry.effect = .bdat(last: true, progress: chunkedMessage?.progress)
                    withCommands { $0.chunked = nil }
                }
            } else {
                anomaly(
                    SMTPGrammar.words(command.argument).first.map { $0.utf8.count > 13 } == true ? .bdatOverflow : .malformedCommand,
                    "BDAT \(command.argument): no chunk size the proxy can trust; following bytes read as commands", &out)
            }
        case .auth, .xExps:
            entry.effect = .auth
            entry.decidesClientMode = true
        case .starttls:
            entry.effect = .startTLS
            entry.decidesClientMode = true
        case .quit:
            entry.effect = .quit
            state = .closing(.quit(reportedTrailingInput: false, clientOpen: true))
        case .xexch50, .xExch50:
            if let size = SMTPGrammar.words(command.argument).first.flatMap({ SMTPGrammar.parseDecimal($0, maximum: BDATArgument.maximumSize) }) {
                entry.effect = .binaryBlob(size: size)
                entry.decidesClientMode = true
            }
        case .turn, .atrn:
            entry.effect = .roleReversal
            entry.decidesClientMode = true
        default:
            break
        }
        pending.append(entry)
    }

    // MARK: - AUTH exchange

    private mutating func handleAuthResponse(_ line: CommandLineFramer.Line, _ out: inout InspectionEffects) {
        withCommands { $0.next = .command }
        let isCancel = line.contentLength == 1 && line.content.readableBytesView.first == UInt8(ascii: "*")
        transcribe(isCancel ? line.raw : ByteBuffer(string: AuthArgument.redactedResponse + "\r\n"), &out)
        if !line.isCanonical {
            anomaly(line.containsNUL ? .nul : line.containsBareCR ? .bareCR : .bareLF, "in an AUTH response", &out)
            if line.containsNUL || line.containsBareCR {
                forwardAuthResponse(ByteBuffer(string: "*\r\n"), display: "*", &out)
                return
            }
        }
        if isCancel {
            authentication.cancel()
        } else if holdsForIdentity(line, &out) {
            return
        }
        forwardAuthResponse(Self.forwardedBytes(of: line), display: isCancel ? "*" : AuthArgument.redactionMarker, &out)
    }

    mutating func forwardAuthResponse(
        _ bytes: ByteBuffer, display: String, action: String = "forward", rule: String? = nil, _ out: inout InspectionEffects
    ) {
        out.append(.writeToServer(bytes))
        event(.command(CommandRecord(verb: SMTPVerb.authResponse.name, arg: display, action: action, rule: rule)), &out)
        pending.append(PendingCommand(verb: "AUTH", effect: .auth, decidesClientMode: true, forwardedAt: now))
    }

    // MARK: - Helpers

    /// Sends a final reply now and closes both legs (the `reject` bare-newline policy, overflow).
    mutating func rejectAndClose(_ reply: SMTPReply, reason: EndReason, _ out: inout InspectionEffects) {
        setEndReason(reason)
        drainLocalReplies(&out)
        sendLocal(reply, for: nil, &out)
        pending.removeAll()
        stopReadingClient()
        discardClientInput(&out)
        out.append(.closeClient)
        out.append(.closeServer)
    }

    /// A BDAT chunk follows: its octets are read (and forwarded or dropped) before the next command.
    mutating func enterChunk(remaining: Int, forwarding: Bool, isLast: Bool) {
        guard case .commands(let commands) = state else { return }
        state = .chunk(SessionState.Chunk(remaining: remaining, forwarding: forwarding, isLast: isLast, commands: commands))
    }

    /// The BDAT message whose chunks were read so far, between its BDAT commands or during one.
    var chunkedMessage: SessionState.ChunkedMessage? {
        switch state {
        case .commands(let commands): commands.chunked
        case .chunk(let chunk): chunk.commands.chunked
        default: nil
        }
    }

    private func strippedKeywordRefusal(
        _ command: SMTPCommand, transaction: MailTransactionArgument?
    ) -> (use: KeywordGate.Use, rule: String, reply: SMTPReply)? {
        for use in KeywordGate.uses(of: command, transaction: transaction) {
            let rule: String?
            if use.keyword == "STARTTLS" && configuration.tlsMode == .strip {
                rule = "--tls strip"
            } else if use.keyword == "CHUNKING" && configuration.holdsMessages && !upstreamOffersChunking {
                rule = Self.heldMessagesRule
            } else if use.keyword == "XCLIENT" && configuration.xclient {
                rule = Self.xclientRule
            } else {
                rule = policy.stripRule(forKeyword: use.keyword, client: configuration.client)
            }
            guard let rule else { continue }
            let reply = use.parameter == nil
                ? SMTPReply(code: 502, "5.5.1 Error: command not implemented")
                : SMTPReply(code: 555, "5.5.4 Unsupported option: \(use.parameter!)")
            return (use, rule, reply)
        }
        return nil
    }

    /// Header lines as message content: CR, LF and NUL inside a line become spaces, so a verdict
    /// can add lines but never end the header block or the message.
    static func prependedHeaderBytes(_ lines: [String]) -> ByteBuffer {
        var bytes = ByteBuffer()
        for line in lines {
            for octet in line.utf8 {
                bytes.writeInteger(octet == SMTPGrammar.cr || octet == SMTPGrammar.lf || octet == SMTPGrammar.nul ? UInt8(ascii: " ") : octet)
            }
            bytes.writeString("\r\n")
        }
        return bytes
    }

    static func defaultRejection(for verb: SMTPVerb) -> SMTPReply {
        switch verb {
        case .mail, .rcpt, .data, .bdat, .helo, .ehlo:
            SMTPReply(code: 550, "5.7.1 Error: \(verb.name) rejected by policy")
        default:
            SMTPReply(code: 502, "5.5.1 Error: command not implemented")
        }
    }

    /// The argument as the audit log shows it: AUTH secrets redacted.
    static func displayArgument(_ command: SMTPCommand) -> String {
        switch command.verb {
        case .auth, .xExps: AuthArgument(parsing: command.argument).redacted
        default: command.argument
        }
    }
}
