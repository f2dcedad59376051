import struct NIOCore.ByteBuffer

extension InspectionEngine {
    /// Reads the server's replies, pairs each with the oldest command awaiting one, and lets
    /// held client input go on once a reply decided how to read it.
    mutating func processServerInput(_ out: inout InspectionEffects) {
        // `greet-pause`: the greeting waits in `serverInput` until the pause ends.
        if case .commands(let commands) = state, case .consulting(.greetPause, _) = commands.next { return }
        while serverInput.readableBytes > 0 {
            if case .relay = state {
                out.append(.writeToClient(serverInput))
                serverInput = Self.emptyBuffer
                return
            }
            if upstreamLeg == .closed {
                serverInput = Self.emptyBuffer
                return
            }
            guard let item = replyParser.next(from: &serverInput) else { return }
            switch item {
            case .malformed(let line, let raw):
                anomaly(.malformedReply, String(line.prefix(200)), &out)
                out.append(.writeToClient(raw))
            case .overlong(let length):
                anomaly(.replyTooLong, "server sent \(length) octets without ending a reply", &out)
                rejectAndClose(SMTPReply(code: 421, "4.4.2 Error: bad reply from upstream, closing"), reason: .upstreamProtocolError, &out)
                return
            case .reply(let reply, let bareLF):
                if bareLF { anomaly(.bareLF, "bare <LF> in a \(reply.code) reply, forwarded as <CR><LF>", &out) }
                handleReply(reply, &out)
            }
        }
    }

    private mutating func handleReply(_ reply: SMTPReply, _ out: inout InspectionEffects) {
        drainLocalReplies(&out)
        guard let head = pending.popFirst() else {
            anomaly(.unsolicitedReply, "\(reply.code) \(String(reply.text.prefix(200)))", &out)
            emitReply(reply, for: nil, &out)
            return
        }
        if head.isInternal {
            // A command only the proxy sent: the client never asked for it and sees nothing.
            let clientClosed = internalReply(reply, to: head, &out)
            drainLocalReplies(&out)
            processClientInput(&out)
            if clientClosed { closeClientAfterHeldInput(&out) }
            return
        }
        var shown = reply
        var startsTLS = false
        var closesClient = false
        var stripped: [ReplyRecord.StrippedKeyword] = []
        var keywordRules: [String] = []
        let positive = reply.code >= 200 && reply.code < 300
        switch head.effect {
        case .none:
            break
        case .greeting:
            if reply.code == 220, let banner = settings.banner, !configuration.dryRun {
                shown = SMTPReply(code: 220, lines: [banner])
            }
        case .ehlo:
            if reply.code == 250 {
                // Parsed once: the keywords as the upstream offered them.
                let offered = EHLOReply(reply)
                (shown, stripped) = rewriteEHLO(reply, offered)
                keywordRules = offered.keywords.flatMap {
                    policy.keywordLogRules(forKeyword: $0.name, client: configuration.client)
                }
                envelope = nil
                withCommands { $0.helloRequired = false }
                if configuration.holdsMessages { upstreamOffersChunking = offered.keywords.contains { $0.name == "CHUNKING" } }
                if configuration.xclient { noteXCLIENTOffer(offered) }
            }
        case .helo:
            if reply.code == 250 {
                envelope = nil
                withCommands { $0.helloRequired = false }
                upstreamOffersChunking = false
            }
        case .mail(let path):
            if positive { envelope = Envelope(mailFrom: path) }
        case .rcpt(let path):
            if positive { envelope?.rcptTo.append(path) }
        case .rset:
            if positive { envelope = nil }
        case .data:
            if reply.code == 354 {
                if case .commands(let commands) = state {
                    state = .content(
                        SessionState.Content(
                            scanner: DataBodyScanner(policy: settings.bareNewline), destination: .upstream, upstream: commands.upstream))
                }
                if !prependHeaders.isEmpty {
                    // A verdict's header lines, at the top of the content, before any body byte.
                    out.append(.writeToServer(Self.prependedHeaderBytes(prependHeaders)))
                    prependHeaders.removeAll()
                }
            }
        case .endOfMessage(let progress):
            recordMessage(progress, result: reply.code, &out)
        case .bdat(let last, let progress):
            if last, let progress {
                recordMessage(progress, result: reply.code, &out)
            } else if !positive {
                // The upstream refused the chunk: the message it began is gone.
                switch state {
                case .commands(var commands):
                    commands.chunked = nil
                    state = .commands(commands)
                case .chunk(var chunk):
                    state = .modifying
                    chunk.commands.chunked = nil
                    state = .chunk(chunk)
                default:
                    break
                }
            }
        case .auth:
            if reply.code == 334 { withCommands { $0.next = .authResponse } }
            authentication.concluded(code: reply.code)
            if reply.code == 235 { tellUpstreamTheLogin(&out) }
        case .startTLS:
            if reply.code == 220 {
                if configuration.tlsMode == .terminate {
                    beginTermination(upstream: true, emitsStart: false, &out)
                    startsTLS = true
                } else {
                    beginPassthrough(&out)
                }
            }
        case .quit:
            setEndReason(.quit)
            closesClient = true
        case .binaryBlob(let size):
            if reply.code == 354 && size > 0, case .commands = state { state = .blob(remaining: size) }
        case .heldData, .releaseData, .heldChunk:
            // Answered by the proxy / by `internalReply`: never paired with an upstream reply here.
            break
        case .roleReversal:
            if positive {
                anomaly(.roleReversal, "\(head.verb) accepted: client and server swap roles; relayed blind", &out)
                enterRelay()
            }
        }
        let latency = head.forwardedAt.map { now.duration(since: $0) }
        emitReply(shown, for: head.verb, stripped: stripped, extraRules: keywordRules, latency: latency, &out)
        if startsTLS {
            // The 220 goes out in clear; everything after it is TLS on both legs.
            out.append(.startTLS(.client))
            out.append(.startTLS(.upstream))
        }
        // The 221 to QUIT goes out before the close.
        if closesClient { out.append(.closeClient) }
        if reply.code == 220, serverInput.readableBytes > 0, case .startTLS = head.effect {
            anomaly(.pipelinedAfterStartTLS, "server sent \(serverInput.readableBytes) octets after its 220 to STARTTLS; discarded", &out)
            serverInput = Self.emptyBuffer
        }
        drainLocalReplies(&out)
        processClientInput(&out)
    }

    /// What the reply to one of the proxy's own commands changes: the transaction's state, and
    /// for the DATA that releases a held message, whether its content goes now.
    /// Returns true when the client closed while a held message that is now refused was released.
    private mutating func internalReply(_ reply: SMTPReply, to head: PendingCommand, _ out: inout InspectionEffects) -> Bool {
        if xclientLoginReplied(reply, to: head, &out) { return false }
        var closesClientAfterInput = false
        let positive = reply.code >= 200 && reply.code < 300
        switch head.effect {
        case .mail(let path):
            if positive {
                envelope = Envelope(mailFrom: path)
            } else {
                anomaly(.envelopeChangeRefused, "MAIL FROM:<\(path)>: \(reply.code) \(String(reply.text.prefix(200)))", &out)
            }
        case .rcpt(let path):
            if positive {
                envelope?.rcptTo.append(path)
            } else {
                anomaly(.envelopeChangeRefused, "RCPT TO:<\(path)>: \(reply.code) \(String(reply.text.prefix(200)))", &out)
            }
        case .releaseData(let progress):
            if reply.code == 354 {
                out.append(.releaseHeldContent)
                pending.append(PendingCommand(verb: ".", effect: .endOfMessage(progress), forwardedAt: now))
            } else {
                // The upstream will not take the message after all: its answer is the client's.
                out.append(.discardHeldContent)
                if case .commands(var commands) = state, case .releasing(let clientClosed) = commands.next {
                    commands.next = .command
                    state = .commands(commands)
                    closesClientAfterInput = clientClosed
                }
                let latency = head.forwardedAt.map { now.duration(since: $0) }
                emitReply(reply, for: ".", latency: latency, &out)
                recordMessage(progress, result: reply.code, &out)
            }
        default:
            // The proxy's own RSET.
            envelope = nil
        }
        return closesClientAfterInput
    }

    private mutating func emitReply(
        _ reply: SMTPReply, for verb: String?, stripped: [ReplyRecord.StrippedKeyword] = [], extraRules: [String] = [],
        latency: Duration? = nil, _ out: inout InspectionEffects
    ) {
        out.append(.writeToClient(reply.wireBytes))
        let rules = policy.replyRules(code: reply.code, verb: verb.map(SMTPVerb.init), client: configuration.client) + extraRules
        event(
            .reply(
                ReplyRecord(
                    code: reply.code, text: reply.text, forVerb: verb, local: false, rules: rules, stripped: stripped,
                    dryRun: configuration.dryRun, latency: latency)),
            &out)
    }

    /// STARTTLS accepted in passthrough mode: from here on both directions are relayed blind.
    private mutating func beginPassthrough(_ out: inout InspectionEffects) {
        discardPipelinedAfterSTARTTLS(&out)
        enterRelay()
        tls = .passthrough
    }

    /// From here on both directions are relayed blind.
    private mutating func enterRelay() {
        switch state {
        case .commands, .content, .chunk, .blob: state = .relay(clientOpen: true, upstreamOpen: true)
        default: state = .relay(clientOpen: false, upstreamOpen: upstreamLeg == .open)
        }
    }

    /// Removes stripped keywords and lowers SIZE to `max-message-size`; re-frames the reply.
    private mutating func rewriteEHLO(_ reply: SMTPReply, _ offered: EHLOReply) -> (SMTPReply, [ReplyRecord.StrippedKeyword]) {
        var model = offered
        var stripped: [ReplyRecord.StrippedKeyword] = []
        var changed = false
        model.keywords.removeAll { keyword in
            let rule: String?
            if keyword.name == "STARTTLS" && configuration.tlsMode == .strip {
                rule = "--tls strip"
            } else if keyword.name == "XCLIENT" && configuration.xclient {
                // The upstream trusts the proxy's XCLIENT: a client's own would name any address or user.
                rule = Self.xclientRule
            } else if keyword.name.isEmpty {
                rule = nil
            } else {
                rule = policy.stripRule(forKeyword: keyword.name, client: configuration.client)
            }
            guard let rule else { return false }
            stripped.append(ReplyRecord.StrippedKeyword(keyword: keyword.name, rule: rule))
            // A dry run previews stripping, but XCLIENT is kept from the client all the same.
            return !configuration.dryRun || rule == Self.xclientRule
        }
        changed = stripped.contains { !configuration.dryRun || $0.rule == Self.xclientRule }
        if configuration.tlsMode == .terminate, adjustSTARTTLSOffer(&model) { changed = true }
        if let maximum = settings.maxMessageSize, !configuration.dryRun,
            let index = model.keywords.firstIndex(where: { $0.name == "SIZE" })
        {
            let advertised = model.keywords[index].parameters.first.flatMap { SMTPGrammar.parseDecimal($0, maximum: Int.max) }
            if advertised == nil || advertised == 0 || advertised! > maximum {
                model.keywords[index] = EHLOReply.Keyword(text: "SIZE \(maximum)")
                changed = true
            }
        }
        return (changed ? model.reply : reply, stripped)
    }
}
