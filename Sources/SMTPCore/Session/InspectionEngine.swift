import struct NIOCore.ByteBuffer

/// The shared SMTP engine: one value per session, driven by the live proxy and by the replayer.
///
/// ## The driver interface
///
/// 1. `start(at:)` once, when the client connection is accepted (or the capture's session begins).
/// 2. `receiveFromClient(_:at:into:)` / `receiveFromServer(_:at:into:)` with every byte read, in
///    the order read, with the time of the read (capture time in replay).
/// 3. Carry out the returned `InspectionEffects.actions` in order (`SessionAction`): connect the
///    upstream, write to either leg, log, start TLS, close or half-close, pause or resume reading
///    the client, arm the timer, and answer each `consult` with `decided(_:_:at:into:)`.
/// 4. Report the end of each leg (`clientClosed`, `serverClosed`), an upstream that could not be
///    reached (`upstreamUnavailable`), an expired timer (`timedOut`), and finally call
///    `finish(at:)` for the `session-end` event.
///
/// The engine performs no I/O and reads no clock, so the same bytes (and verdicts) give the same
/// events whatever their segmentation and timing, live or replayed.
public struct InspectionEngine: Sendable {
    public let configuration: InspectionConfiguration
    let policy: any InspectionPolicy
    let settings: PolicySettings

    var now = SMTPTimestamp.epoch
    /// The phase of the session, with the data that belongs to it alone (`SessionState`).
    var state = SessionState.notStarted
    var clientInput = ByteBuffer()
    var serverInput = ByteBuffer()
    var framer = CommandLineFramer(maximumLength: SMTPDefaults.maximumCommandLineLength)
    var replyParser = ReplyParser()
    /// The commands awaiting replies (`Pipeline`): it outlives every phase but `closed`.
    var pending = Pipeline()
    var envelope: Envelope?
    /// RCPT commands forwarded since the transaction began (for `max-recipients`).
    var recipientsForwarded = 0
    /// The first reason recorded for the end of the session (the `session-end` `reason`).
    var endReason: EndReason?
    var tls = SessionTLS.none
    /// `--tls terminate`: whether the upstream's last EHLO offered STARTTLS.
    var upstreamOffersSTARTTLS = false

    var nextConsultID: UInt32 = 0
    /// Header lines a verdict asked to add at the top of the open transaction's message.
    var prependHeaders: [String] = []
    /// A policy service's answer for the `command` event about to be logged.
    var pendingPolicyAnswer: String?
    /// What consults report (`SessionFacts`).
    var heloName: String?
    /// The last MAIL forwarded: its reverse path (a pipelined RCPT is consulted before MAIL's
    /// reply sets `envelope`) and `SIZE=` (Postfix's `size` attribute after MAIL), read only
    /// when a consult asks.
    var forwardedMail: MailTransactionArgument?
    var sawEHLO = false
    var transactionCount = 0
    /// The SASL exchange: the identity tried, the one authenticated (`+Authentication`).
    var authentication = AuthenticationProgress()
    /// The upstream's last EHLO offered CHUNKING: a held BDAT message can be released as BDAT.
    var upstreamOffersChunking = false
    /// `action: policy` rules for the end of a message (from the rule set, once).
    let endOfMessagePolicyRules: [String]
    /// What the driver was last told about reading the client and about the timer: `settle`
    /// emits only changes.
    var readsPaused = false
    var lastWait = Wait.nothing

    var bytesFromClient = 0
    var bytesFromServer = 0
    var commandCount = 0
    var messageCount = 0

    public init(configuration: InspectionConfiguration, policy: any InspectionPolicy = NoRules()) {
        self.configuration = configuration
        self.policy = policy
        var settings = policy.settings
        if configuration.dryRun && settings.bareNewline == .reject {
            // A dry run previews `reject` but keeps the protection: it normalizes.
            settings.bareNewline = .normalize
        }
        self.settings = settings
        endOfMessagePolicyRules = policy.endOfMessageConsults(client: configuration.client)
        if configuration.clientTLSAtStart { tls = .implicitUpstreamClear }
    }

    // MARK: - Driver inputs

    /// The session begins: emits `session-start`, then asks the driver to contact the upstream
    /// (`connectUpstream`), or first consults (`ConsultStage.connect`). With `refusal` the proxy
    /// turns the session away at once (too many connections, a refused origin): the reply is the
    /// client's greeting and both legs close; the upstream is never contacted.
    public mutating func start(
        at time: SMTPTimestamp, refusal: (reply: SMTPReply, reason: EndReason)? = nil, into out: inout InspectionEffects
    ) {
        guard case .notStarted = state else { return }
        state = .commands(SessionState.Commands())
        now = time
        event(.sessionStart(client: configuration.client, server: configuration.server, source: configuration.source), &out)
        pending.append(PendingCommand(verb: "greeting", effect: .greeting))
        if let refusal {
            refuse(with: refusal.reply, reason: refusal.reason, at: time, into: &out)
        } else if configuration.consultStages.contains(.connect) {
            let id = consultID()
            hold(.connect(id))
            out.append(.consult(id, ConsultRequest(stage: .connect, facts: facts())))
        } else {
            admit(&out)
        }
        settle(&out)
    }

    /// The session may go on: contact the upstream, and hold its greeting for `greet-pause`.
    mutating func admit(_ out: inout InspectionEffects) {
        out.append(.connectUpstream)
        if let pause = settings.greetPause {
            let id = consultID()
            hold(.greetPause(id))
            out.append(.resumeAt(id, deadline: now.adding(pause)))
        }
    }

    /// The driver's answer to `consult(id, …)`. A stale id (the session ended meanwhile) is ignored.
    public mutating func decided(_ id: ConsultID, _ verdict: Verdict, at time: SMTPTimestamp, into out: inout InspectionEffects) {
        now = time
        guard case .commands(var commands) = state, case .consulting(let held, let clientClosed) = commands.next, held.id == id else { return }
        commands.next = .command
        state = .commands(commands)
        for kind in verdict.events { event(kind, &out) }
        if case .delay(let duration) = verdict.action {
            // A tarpit: the same question stays open until the driver's timer answers it.
            switch held {
            case .command(_, let command), .delayed(_, let command, _): hold(.delayed(id, command, verdict), clientClosed: clientClosed)
            default: hold(held, clientClosed: clientClosed)
            }
            out.append(.resumeAt(id, deadline: now.adding(duration)))
            settle(&out)
            return
        }
        switch held {
        case .connect:
            switch verdict.action {
            case .reply(let reply), .disconnect(let reply):
                refuse(with: reply, reason: verdict.endReason.map(EndReason.init(rawValue:)) ?? .refused, at: time, into: &out)
            case .proceed, .rewrite, .delay:
                admit(&out)
            }
        case .greetPause:
            processServerInput(&out)
        case .command(_, let command):
            act(on: command, verdict: verdict, &out)
        case .delayed(_, let command, let first):
            // The delay's own verdict decides (its rule and events were logged when it came).
            var verdict = verdict
            if case .proceed = verdict.action, verdict.rule == nil { verdict.rule = first.rule }
            verdict.prependHeaders = first.prependHeaders + verdict.prependHeaders
            act(on: command, verdict: verdict, &out)
        case .endOfMessage(_, let progress, let held):
            endMessage(progress, held: held, verdict: verdict, &out)
        }
        processClientInput(&out)
        if clientClosed { closeClientAfterHeldInput(&out) }
        settle(&out)
    }

    public mutating func receiveFromClient(_ bytes: ByteBuffer, at time: SMTPTimestamp, into out: inout InspectionEffects) {
        now = time
        bytesFromClient += bytes.readableBytes
        if let action = settings.pregreet, greetingOutstanding, case .commands(var commands) = state, !commands.pregreetReported {
            commands.pregreetReported = true
            state = .commands(commands)
            anomaly(.pregreet, "client sent data before the greeting reached it", &out)
            if action == .reject, !configuration.dryRun {
                // postscreen's verdict: nothing of this client reaches the upstream.
                transcribe(bytes, &out)
                setEndReason(.pregreet)
                pending.removeAll()
                sendLocal(SMTPReply(code: 554, "5.5.1 Error: talking before the greeting"), for: nil, &out)
                stopReadingClient()
                out.append(.closeClient)
                out.append(.closeServer)
                settle(&out)
                return
            }
        }
        Self.append(bytes, to: &clientInput)
        processClientInput(&out)
        settle(&out)
    }

    public mutating func receiveFromServer(_ bytes: ByteBuffer, at time: SMTPTimestamp, into out: inout InspectionEffects) {
        now = time
        bytesFromServer += bytes.readableBytes
        Self.append(bytes, to: &serverInput)
        processServerInput(&out)
        settle(&out)
    }

    /// The driver wrote a held message's content and end of data (`releaseHeldContent`): the
    /// client's next commands may go upstream now.
    public mutating func heldContentReleased(at time: SMTPTimestamp, into out: inout InspectionEffects) {
        now = time
        guard case .commands(var commands) = state, case .releasing(let clientClosed) = commands.next else { return }
        commands.next = .command
        state = .commands(commands)
        processClientInput(&out)
        if clientClosed { closeClientAfterHeldInput(&out) }
        settle(&out)
    }

    /// The client closed its side (EOF or reset). While a verdict is outstanding, the commands
    /// the client sent before closing still wait for it: the close is handled after them.
    public mutating func clientClosed(at time: SMTPTimestamp, into out: inout InspectionEffects) {
        now = time
        if case .commands(var commands) = state, clientInput.readableBytes > 0 || !pending.isEmpty {
            switch commands.next {
            case .consulting(let held, _):
                commands.next = .consulting(held, clientClosed: true)
                state = .commands(commands)
                settle(&out)
                return
            case .releasing:
                commands.next = .releasing(clientClosed: true)
                state = .commands(commands)
                settle(&out)
                return
            case .command, .authResponse:
                break
            }
        }
        closeClientLeg(&out)
        settle(&out)
    }

    /// The client closed while its input waited behind a verdict or a held message, which is
    /// now handled: its close is, unless another verdict holds what is left.
    mutating func closeClientAfterHeldInput(_ out: inout InspectionEffects) {
        if case .commands(var commands) = state, case .consulting(let held, _) = commands.next {
            commands.next = .consulting(held, clientClosed: true)
            state = .commands(commands)
            return
        }
        closeClientLeg(&out)
    }

    mutating func closeClientLeg(_ out: inout InspectionEffects) {
        let upstream = upstreamLeg
        switch state {
        case .content, .chunk:
            var forwarding = false
            if case .content(let content) = state {
                if content.destination == .held { out.append(.discardHeldContent) }
                forwarding = content.destination != .dropped
            } else if case .chunk(let chunk) = state {
                if chunk.commands.chunked?.destination == .held { out.append(.discardHeldContent) }
                forwarding = chunk.forwarding
            }
            if forwarding {
                anomaly(.incompleteSession, "client closed during message content; upstream aborted before end of data", &out)
                out.append(.closeServer)
            }
            setEndReason(.clientClosedMidData)
        case .blob:
            out.append(.closeServer)
            setEndReason(.clientClosed)
        case .relay(_, let upstreamOpen):
            out.append(.shutdownServerOutput)
            setEndReason(.clientClosed)
            state = .relay(clientOpen: false, upstreamOpen: upstreamOpen)
            discardClientInput(&out)
            if !upstreamOpen { out.append(.closeClient) }
            return
        case .closing(.quit(let reported, _)):
            out.append(.shutdownServerOutput)
            setEndReason(.quit)
            state = .closing(.quit(reportedTrailingInput: reported, clientOpen: false))
            discardClientInput(&out)
            return
        case .closed:
            return
        case .notStarted, .commands, .closing(.discarding), .modifying:
            if case .commands(let commands) = state, commands.chunked?.destination == .held { out.append(.discardHeldContent) }
            if clientInput.readableBytes > 0 {
                anomaly(.incompleteSession, "client closed with \(clientInput.readableBytes) octets of an unfinished line", &out)
            }
            out.append(.shutdownServerOutput)
            setEndReason(.clientClosed)
        }
        state = .closing(.discarding(upstream: upstream))
        discardClientInput(&out)
        if upstream == .closed { out.append(.closeClient) }
    }

    /// The upstream closed its side.
    public mutating func serverClosed(at time: SMTPTimestamp, into out: inout InspectionEffects) {
        now = time
        switch upstreamLeg {
        case .closed:
            return
        case .aborting:
            // The proxy closed it to abort a message: the client's session goes on to its end of
            // data, which gets the proxy's reply, and ends with the next command.
            setUpstreamClosed()
            return
        case .open:
            break
        }
        if case .relay = state {
            setEndReason(.serverClosed)
        } else if case .closing(.quit) = state {
            setEndReason(.quit)
        } else if case .closing(.discarding) = state, pending.isEmpty {
            setEndReason(.clientClosed)
        } else {
            drainLocalReplies(&out)
            setEndReason(.upstreamLost)
            sendLocal(SMTPReply(code: 421, "4.4.2 Error: connection to upstream lost, closing"), for: nil, &out)
        }
        pending.removeAll()
        if case .relay = state {
            state = .relay(clientOpen: false, upstreamOpen: false)
        } else {
            state = .closing(.discarding(upstream: .closed))
        }
        discardClientInput(&out)
        out.append(.closeClient)
        settle(&out)
    }

    /// The upstream could not be reached: the client gets `421 4.4.0` as its greeting.
    public mutating func upstreamUnavailable(_ detail: String, at time: SMTPTimestamp, into out: inout InspectionEffects) {
        now = time
        anomaly(.upstreamUnavailable, detail, &out)
        refuse(
            with: SMTPReply(code: 421, "4.4.0 Service not available: upstream unreachable, try again later"),
            reason: "upstream-unavailable", at: time, into: &out)
    }

    /// The proxy turns the session away before it begins (too many connections, upstream down):
    /// `reply` becomes the client's greeting and both legs close.
    public mutating func refuse(with reply: SMTPReply, reason: EndReason, at time: SMTPTimestamp, into out: inout InspectionEffects) {
        now = time
        setEndReason(reason)
        sendLocal(reply, for: "greeting", &out)
        pending.removeAll()
        stopReadingClient()
        out.append(.closeClient)
        out.append(.closeServer)
        settle(&out)
    }

    /// The timer for `waitingFor` expired (RFC 5321 §4.5.3.2).
    public mutating func timedOut(at time: SMTPTimestamp, into out: inout InspectionEffects) {
        now = time
        setEndReason(.timeout)
        if case .relay = state {
            // In a blind relay (TLS) a plain-text reply would corrupt the stream: just close.
        } else {
            sendLocal(SMTPReply(code: 421, "4.4.2 Error: timeout exceeded, closing"), for: nil, &out)
        }
        pending.removeAll()
        stopReadingClient()
        out.append(.closeClient)
        out.append(.closeServer)
        settle(&out)
    }

    /// Emits `session-end` (once). Call when both connections are gone or the capture ended.
    public mutating func finish(at time: SMTPTimestamp, into out: inout InspectionEffects) {
        switch state {
        case .notStarted, .closed: return
        default: break
        }
        now = time
        state = .closed
        discardClientInput(&out)
        event(
            .sessionEnd(
                SessionSummary(
                    reason: (endReason ?? .incomplete).rawValue,
                    bytesFromClient: bytesFromClient,
                    bytesFromServer: bytesFromServer,
                    commands: commandCount,
                    messages: messageCount,
                    tls: configuration.upstreamUnverified && tls.upstreamLegEncrypted ? tls.rawValue + "-unverified" : tls.rawValue
                )
            ),
            &out
        )
        settle(&out)
    }

    // MARK: - Driver queries

    /// False while the driver should not read from the client: a reply must decide how to read
    /// what follows, too many commands await replies, or a verdict is outstanding and enough input
    /// waits behind it. Drivers learn it from `pauseClientReads`/`resumeClientReads`.
    public var wantsClientInput: Bool {
        switch state {
        case .closed, .modifying, .closing(.discarding), .closing(.quit(_, clientOpen: false)), .relay(clientOpen: false, _):
            return false
        case .content, .chunk, .blob, .relay(clientOpen: true, _):
            return true
        case .commands(let commands):
            switch commands.next {
            case .consulting, .releasing: return clientInput.readableBytes < SMTPDefaults.dataReadAhead
            case .command, .authResponse: break
            }
        case .notStarted, .closing(.quit(_, clientOpen: true)):
            break
        }
        guard pending.count < SMTPDefaults.maximumPipelinedCommands else { return false }
        if pending.modeDecisions == 0 { return true }
        // Waiting for the reply to DATA, a little is read ahead: the bytes are held, not
        // forwarded, and read exactly as they would be after the reply (354: body; else:
        // commands), so the driver need not stop and restart reading for every message.
        // STARTTLS, AUTH and the rest stop reading: their next bytes may be a TLS handshake or
        // a credential, which stay in the socket until the reply decides.
        guard pending.modeDecisions == 1, let last = pending.last, case .data = last.effect else { return false }
        return clientInput.readableBytes < SMTPDefaults.dataReadAhead
    }

    /// What the session is waiting for, to pick a timeout.
    public enum Wait: Hashable, Sendable {
        /// The client's next command (RFC 5321 §4.5.3.2.7: 5 minutes).
        case clientCommand
        /// More message content (§4.5.3.2.6 "data block": 3 minutes).
        case clientData
        /// A server reply to this verb (`greeting` 5 min, `MAIL`/`RCPT` 5 min, `DATA` 2 min, `.` 10 min).
        case serverReply(String)
        /// Relaying blind.
        case relay
        /// An outside verdict (its service keeps its own deadline).
        case verdict
        case nothing
    }

    public var waitingFor: Wait {
        let clientOpen: Bool
        switch state {
        case .relay(clientOpen: true, _): return .relay
        case .commands(let commands):
            if case .consulting = commands.next { return .verdict }
            clientOpen = true
        case .closed, .modifying, .closing(.discarding), .closing(.quit(_, clientOpen: false)), .relay(clientOpen: false, _):
            clientOpen = false
        case .notStarted, .content, .chunk, .blob, .closing(.quit(_, clientOpen: true)):
            clientOpen = true
        }
        if !clientOpen, pending.isEmpty { return .nothing }
        if let head = pending.first, head.localReply == nil { return .serverReply(head.verb) }
        switch state {
        case .content, .chunk, .blob: return .clientData
        default: return .clientCommand
        }
    }

    /// True once both legs are done with: the driver may tear the session down.
    public var isFinished: Bool {
        if case .closed = state { true } else { false }
    }

    // MARK: - State helpers

    /// The client has not been greeted yet: the greeting heads the pipeline (every path that
    /// answers the client before it empties the pipeline).
    var greetingOutstanding: Bool {
        if let head = pending.first, case .greeting = head.effect { true } else { false }
    }

    /// The upstream leg as the current phase knows it.
    var upstreamLeg: SessionState.Upstream {
        switch state {
        case .commands(let commands): commands.upstream
        case .content(let content): content.upstream
        case .closing(.discarding(let upstream)): upstream
        case .relay(_, let upstreamOpen): upstreamOpen ? .open : .closed
        case .notStarted, .chunk, .blob, .closing(.quit), .closed, .modifying: .open
        }
    }

    /// The upstream, aborted by the proxy, has closed.
    mutating func setUpstreamClosed() {
        switch state {
        case .commands(var commands):
            commands.upstream = .closed
            state = .commands(commands)
        case .content(var content):
            state = .modifying
            content.upstream = .closed
            state = .content(content)
        case .closing(.discarding):
            state = .closing(.discarding(upstream: .closed))
        default:
            break
        }
    }

    /// Client input is no longer read (it is discarded); the replies still owed go out.
    mutating func stopReadingClient() {
        switch state {
        case .relay(_, let upstreamOpen): state = .relay(clientOpen: false, upstreamOpen: upstreamOpen)
        case .closed: break
        default: state = .closing(.discarding(upstream: upstreamLeg))
        }
    }

    /// Holds client input behind a question (`consult`) or a timer (`greet-pause`, a tarpit).
    mutating func hold(_ held: ConsultHold, clientClosed: Bool = false) {
        guard case .commands(var commands) = state else { return }
        commands.next = .consulting(held, clientClosed: clientClosed)
        state = .commands(commands)
    }

    /// Changes the command phase in place (nothing in any other phase).
    @inline(__always)
    mutating func withCommands(_ body: (inout SessionState.Commands) -> Void) {
        guard case .commands(var commands) = state else { return }
        state = .modifying
        body(&commands)
        state = .commands(commands)
    }

    // MARK: - Shared helpers

    /// Notes client bytes the engine consumed, for a recording of the session.
    @inline(__always)
    func transcribe(_ bytes: ByteBuffer, _ out: inout InspectionEffects) {
        if configuration.recordsClientTranscript && bytes.readableBytes > 0 { out.append(.transcribe(bytes)) }
    }

    /// Drops the client bytes not yet read (they still go into a recording: the client sent them).
    mutating func discardClientInput(_ out: inout InspectionEffects) {
        transcribe(clientInput, &out)
        clientInput = Self.emptyBuffer
    }

    static let emptyBuffer = ByteBuffer()

    /// The `rule` that refuses BDAT while messages are held for milters and the upstream does
    /// not offer CHUNKING (a held BDAT message is released as BDAT).
    static let heldMessagesRule = "settings.milters"

    /// Emits the `message` event of a transaction that reached its end.
    mutating func recordMessage(_ progress: MessageProgress, result: Int?, _ out: inout InspectionEffects) {
        var headers = progress.headers
        headers.finishMessage()
        messageCount += 1
        event(
            .message(
                MessageRecord(
                    mailFrom: envelope?.mailFrom ?? "",
                    rcptTo: envelope?.rcptTo ?? [],
                    size: progress.size,
                    result: result,
                    messageID: headers.messageID,
                    subject: headers.subject
                )
            ),
            &out
        )
        envelope = nil
        recipientsForwarded = 0
    }

    /// Adds new bytes behind the unread ones. The unread part is at most one partial line or
    /// reply; moving it to the front first keeps the buffer from growing with the whole stream
    /// (ByteBuffer never reclaims the bytes before its reader index by itself). Static: a method
    /// on `self` given `&self.clientInput` made Swift copy the whole engine on every read.
    static func append(_ bytes: ByteBuffer, to input: inout ByteBuffer) {
        if input.readableBytes == 0 {
            input = bytes
        } else {
            if input.readerIndex > 0 { input.discardReadBytes() }
            var bytes = bytes
            input.writeBuffer(&bytes)
        }
    }

    mutating func event(_ kind: AuditEvent.Kind, _ out: inout InspectionEffects) {
        if let answer = pendingPolicyAnswer, case .command(var record) = kind {
            pendingPolicyAnswer = nil
            record.policy = answer
            out.log(AuditEvent(timestamp: now, session: configuration.sessionID, kind: .command(record)))
            return
        }
        out.log(AuditEvent(timestamp: now, session: configuration.sessionID, kind: kind))
    }

    /// Tells the driver what changed about reading the client and the timer, after every input.
    /// The timer is re-armed on every input (activity restarts the RFC 5321 wait).
    /// Once the session has ended only the timer is cancelled: the driver tears it down.
    mutating func settle(_ out: inout InspectionEffects) {
        let finished = isFinished
        if !finished {
            let wants = wantsClientInput
            if wants == readsPaused {
                readsPaused = !wants
                out.append(wants ? .resumeClientReads : .pauseClientReads)
            }
        }
        guard let timeouts = configuration.timeouts else { return }
        let wait = finished ? Wait.nothing : waitingFor
        if let seconds = timeouts.seconds(for: wait) {
            lastWait = wait
            out.append(.setTimer(wait, deadline: now.adding(.seconds(seconds))))
        } else if lastWait != .nothing {
            lastWait = .nothing
            out.append(.setTimer(wait, deadline: nil))
        }
    }

    mutating func consultID() -> ConsultID {
        nextConsultID &+= 1
        return ConsultID(nextConsultID)
    }

    /// What a consult reports of the session.
    func facts(size: Int? = nil) -> SessionFacts {
        SessionFacts(
            sessionID: configuration.sessionID, client: configuration.client, server: configuration.server,
            heloName: heloName, protocolName: heloName == nil ? nil : (sawEHLO ? "ESMTP" : "SMTP"),
            sender: envelope?.mailFrom ?? forwardedMail?.path, recipients: envelope?.rcptTo ?? [], saslMethod: authentication.identityMechanism,
            saslUsername: authentication.identity, size: size ?? Self.declaredSize(forwardedMail),
            tls: tls.rawValue, transaction: transactionCount)
    }

    /// `SIZE=` of a MAIL command.
    static func declaredSize(_ transaction: MailTransactionArgument?) -> Int? {
        transaction?.parameter("SIZE")?.value.flatMap { SMTPGrammar.parseDecimal($0, maximum: Int.max) }
    }

    mutating func anomaly(_ kind: AnomalyKind, _ detail: String, _ out: inout InspectionEffects) {
        event(.anomaly(kind, detail: detail), &out)
    }

    mutating func setEndReason(_ reason: EndReason) {
        if endReason == nil { endReason = reason }
    }

    /// Sends a reply of the proxy's own right now (not in pipeline order).
    mutating func sendLocal(_ reply: SMTPReply, for verb: String?, _ out: inout InspectionEffects) {
        if verb == "AUTH" { authentication.concluded(code: reply.code) }
        out.append(.writeToClient(reply.encoded))
        event(.reply(ReplyRecord(code: reply.code, text: reply.text, forVerb: verb, local: true)), &out)
    }

    /// Queues a reply of the proxy's own behind the replies still owed to the client.
    mutating func enqueueLocal(_ entry: PendingCommand, _ out: inout InspectionEffects) {
        pending.append(entry)
        drainLocalReplies(&out)
    }

    /// Sends the proxy's own replies that have reached the head of the pipeline.
    mutating func drainLocalReplies(_ out: inout InspectionEffects) {
        // Most calls find a forwarded command at the head: it is looked at, not copied out.
        while pending.headIsAnsweredByProxy {
            if case .heldChunk(_, complete: false) = pending.first!.effect { return }  // its octets are still coming
            let head = pending.popFirst()!
            var reply = head.localReply!
            if case .heldChunk(let last, _) = head.effect {
                guard let answer = answerHeldChunk(reply, last: last, &out) else { continue }
                reply = answer
            }
            if case .heldData = head.effect {
                // The replies to MAIL and RCPT are in: the proxy takes the message itself.
                if envelope == nil {
                    reply = SMTPReply(code: 503, "5.5.1 Error: need MAIL command")
                } else if envelope!.rcptTo.isEmpty {
                    reply = SMTPReply(code: 554, "5.5.1 Error: no valid recipients")
                } else if case .commands(let commands) = state {
                    state = .content(
                        SessionState.Content(
                            scanner: DataBodyScanner(policy: settings.bareNewline), destination: .held, upstream: commands.upstream))
                }
            }
            sendLocal(reply, for: head.verb, &out)
            switch head.effect {
            case .endOfMessage(let progress): recordMessage(progress, result: reply.code, &out)
            case .startTLS:
                beginTermination(upstream: false, &out)
            default: break
            }
            if head.closeAfterReply {
                pending.removeAll()
                stopReadingClient()
                discardClientInput(&out)
                out.append(.closeClient)
                out.append(.closeServer)
            }
        }
    }
}
