import NIOCore
import SMTPCore
import SMTPFilters

/// One milter's side of one SMTP session: its connection, what it negotiated, and where the
/// session stands for it (SPEC §12). Events go out as Postfix's milter8 sends them: macros first
/// (even for a step the milter asked to leave out), the step unless `SMFIP_NO*`, then its reply
/// unless `SMFIP_NR_*`.
///
/// A failure (unreachable, timeout, close, garbage, oversized packet) closes the connection and
/// gives the `on-error` answer now and at every later stage of the session.
actor MilterConversation {
    let milter: MilterSettings
    let hostname: String
    let eventLoop: any EventLoop

    private var connection: MilterConnection?
    private var steps: MilterSteps = []
    private var phase = Phase.new
    /// A milter answered `discard` before end of message.
    private var discarding = false
    /// The transaction's DATA step went out (BDAT asks at every chunk; the milter hears it once).
    private var dataSent = false
    private var failed = false

    private enum Phase {
        /// Not connected yet.
        case new
        /// Connected, between transactions.
        case session
        /// MAIL sent, end of message not yet.
        case transaction
        /// The milter accepted or discarded this message: nothing more until the next MAIL.
        case messageDone
        /// The milter accepted (or refused) the whole session: nothing more.
        case sessionDone
    }

    init(milter: MilterSettings, hostname: String, eventLoop: any EventLoop) {
        self.milter = milter
        self.hostname = hostname
        self.eventLoop = eventLoop
    }

    /// The stages before DATA's content. Nil when the milter was not asked (it accepted earlier,
    /// or it asked to leave the step out).
    func ask(_ request: ConsultRequest) async -> MilterAnswer? {
        let stage = Self.stageName(request.stage)
        if failed { return milter.onError == .accept ? nil : stickyFailure(stage: stage, atConnect: request.stage == .connect) }
        do throws(MilterError) {
            if phase == .new {
                // The engine may first ask at a later stage (replay of a capture that starts
                // mid-session): the connect step is told first; a refusal there answers this stage.
                let answer = try await open(request.facts)
                if request.stage == .connect { return answer }
                if let answer, !answer.isContinue { return restage(answer, stage) }
            }
            switch request.stage {
            case .connect:
                return nil
            case .helo:
                guard phase != .sessionDone else { return nil }
                try await abortTransaction()
                return try await event(
                    .helo(request.facts.heloName ?? request.argument), stage: stage, macros: [],
                    skip: .noHelo, noReply: .noReplyHelo)
            case .mail:
                guard phase != .sessionDone else { return nil }
                try await abortTransaction()
                phase = .transaction
                discarding = false
                dataSent = false
                return try await event(
                    .mail(Self.arguments(request)), stage: stage, macros: mailMacros(request.facts),
                    skip: .noMail, noReply: .noReplyMail)
            case .rcpt:
                guard phase == .transaction else { return nil }
                return try await event(
                    .recipient(Self.arguments(request)), stage: stage,
                    macros: [("{rcpt_addr}", request.path ?? ""), ("{rcpt_mailer}", "smtp")],
                    skip: .noRecipient, noReply: .noReplyRecipient)
            case .data:
                guard phase == .transaction, !dataSent else { return nil }
                dataSent = true
                return try await event(
                    .data, stage: stage, macros: [("i", request.facts.sessionID)], skip: .noData, noReply: .noReplyData)
            default:
                return nil
            }
        } catch {
            return failure(error, stage: stage, atConnect: request.stage == .connect)
        }
    }

    /// End of message: the headers, end of headers, the body in chunks of at most 64 KiB, then
    /// end of message, whose answer carries the milter's modifications. Nil when the milter has
    /// nothing to say about this message (accepted earlier, or the session is done for it).
    func message(_ message: HeldMessage, facts: SessionFacts) async -> MilterAnswer? {
        if failed { return milter.onError == .accept ? nil : stickyFailure(stage: "eom", atConnect: false) }
        defer { if phase == .transaction || phase == .messageDone { phase = .session } }
        if discarding {
            discarding = false
            return MilterAnswer(milter: milter.name, stage: "eom", decision: .discard, verdict: "discard")
        }
        do throws(MilterError) {
            if phase == .new, let answer = try await open(facts), !answer.isContinue { return answer }
            if phase == .session {
                // The engine did not stop at MAIL/RCPT for this milter: tell it the envelope now.
                phase = .transaction
                let mail = ConsultRequest(stage: .mail, argument: "FROM:<\(facts.sender ?? "")>", path: facts.sender ?? "", facts: facts)
                if let answer = try await event(.mail(Self.arguments(mail)), stage: "mail", macros: mailMacros(facts), skip: .noMail, noReply: .noReplyMail), !answer.isContinue {
                    return answer
                }
                for recipient in facts.recipients {
                    let request = ConsultRequest(stage: .rcpt, argument: "TO:<\(recipient)>", path: recipient, facts: facts)
                    if let answer = try await event(.recipient(Self.arguments(request)), stage: "rcpt", macros: [("{rcpt_addr}", recipient)], skip: .noRecipient, noReply: .noReplyRecipient), !answer.isContinue {
                        return answer
                    }
                }
            }
            guard phase == .transaction else { return nil }
            if let answer = try await headers(message), !answer.isContinue { return answer }
            if let answer = try await event(.endOfHeaders, stage: "eoh", macros: [], skip: .noEndOfHeaders, noReply: .noReplyEndOfHeaders), !answer.isContinue {
                return answer
            }
            if let answer = try await body(message), !answer.isContinue { return answer }
            return try await event(.endOfMessage, stage: "eom", macros: [("i", facts.sessionID)], skip: [], noReply: [], modificationsAllowed: true)
        } catch {
            return failure(error, stage: "eom", atConnect: false)
        }
    }

    /// Whether header values go with their leading space (`SMFIP_HDR_LEADSPC`): modifications
    /// are applied the same way.
    var headerLeadingSpace: Bool { steps.contains(.headerLeadingSpace) }

    /// The session ended: `SMFIC_QUIT`, then close.
    func quit() async {
        guard let connection else { return }
        self.connection = nil
        if !failed { _ = try? await connection.send([.quit]).get() }
        connection.close()
    }

    // MARK: - Steps

    private func open(_ facts: SessionFacts) async throws(MilterError) -> MilterAnswer? {
        let connection = try await Self.wait(MilterConnection.connect(to: milter, on: eventLoop))
        self.connection = connection
        let offer = MilterCommand.negotiate(version: 6, actions: .offered, steps: .offered)
        let responses = try await Self.wait(connection.exchange([offer]))
        guard responses.count == 1, case .negotiate(let version, _, let asked) = responses[0] else {
            throw MilterError(.negotiation, "the milter answered option negotiation with something else")
        }
        guard (2...6).contains(version) else {
            throw MilterError(.negotiation, "the milter speaks protocol version \(version) (2 to 6 supported)")
        }
        guard asked.isSubset(of: .offered) else {
            throw MilterError(.negotiation, "the milter asks for protocol steps 0x\(String(asked.subtracting(.offered).rawValue, radix: 16)) that were not offered")
        }
        steps = asked
        phase = .session
        let client = facts.client
        let family: UInt8 = client.host.contains(":") ? UInt8(ascii: "6") : (client.host.first?.isNumber == true ? UInt8(ascii: "4") : UInt8(ascii: "U"))
        let macros: [(String, String)] = [
            ("j", hostname), ("{daemon_name}", "smtp-inspect"), ("{daemon_addr}", facts.server.host),
            ("{daemon_port}", String(facts.server.port)), ("{client_addr}", client.host),
            ("{client_port}", String(client.port)), ("{client_name}", "unknown"),
            ("_", "unknown [\(client.host)]"), ("i", facts.sessionID),
        ]
        return try await event(
            .connect(hostname: "unknown", family: family, port: UInt16(clamping: client.port), address: client.host),
            stage: "connect", macros: macros, skip: .noConnect, noReply: .noReplyConnect)
    }

    private func headers(_ message: HeldMessage) async throws(MilterError) -> MilterAnswer? {
        guard !steps.contains(.noHeaders) else { return nil }
        let leadingSpace = headerLeadingSpace
        if steps.contains(.noReplyHeader) {
            var batch: [MilterCommand] = []
            var size = 0
            for field in message.headers {
                let command = MilterCommand.header(name: field.name, value: field.value(leadingSpace: leadingSpace))
                size += field.raw.count + 8
                batch.append(command)
                if size >= MilterCommand.bodyChunkSize {
                    try await send(batch)
                    batch = []
                    size = 0
                }
            }
            if !batch.isEmpty { try await send(batch) }
            return nil
        }
        for field in message.headers {
            let command = MilterCommand.header(name: field.name, value: field.value(leadingSpace: leadingSpace))
            guard let answer = try await event(command, stage: "header", macros: [], skip: [], noReply: []) else { continue }
            if answer.skipsRest { break }
            if !answer.isContinue { return answer }
        }
        return nil
    }

    private func body(_ message: HeldMessage) async throws(MilterError) -> MilterAnswer? {
        guard !steps.contains(.noBody) else { return nil }
        var chunks = message.bodyChunks(chunkSize: MilterCommand.bodyChunkSize)
        while true {
            let chunk: ByteBuffer?
            do {
                chunk = try chunks.next()
            } catch {
                throw MilterError(.spool, "\(error)")
            }
            guard let chunk else { return nil }
            guard let answer = try await event(.body(chunk), stage: "body", macros: [], skip: [], noReply: .noReplyBody) else {
                continue
            }
            if answer.skipsRest { return nil }
            if !answer.isContinue { return answer }
        }
    }

    /// Sends one event (with its macros) and reads the milter's answer.
    private func event(
        _ command: MilterCommand, stage: String, macros: [(String, String)], skip: MilterSteps, noReply: MilterSteps,
        modificationsAllowed: Bool = false
    ) async throws(MilterError) -> MilterAnswer? {
        var packets: [MilterCommand] = []
        if !macros.isEmpty { packets.append(.macros(stage: command.code, macros.map { (name: $0.0, value: $0.1) })) }
        if !skip.isEmpty && steps.contains(skip) {
            if !packets.isEmpty { try await send(packets) }
            return nil
        }
        packets.append(command)
        if !noReply.isEmpty && steps.contains(noReply) {
            try await send(packets)
            return nil
        }
        guard let connection else { throw MilterError(.closed, "no connection") }
        let started = ContinuousClock.now
        let responses = try await Self.wait(connection.exchange(packets))
        var answer = try interpret(responses, stage: stage, modificationsAllowed: modificationsAllowed)
        answer.latency = ContinuousClock.now - started
        return answer
    }

    private func send(_ packets: [MilterCommand]) async throws(MilterError) {
        guard let connection else { throw MilterError(.closed, "no connection") }
        try await Self.wait(connection.send(packets))
    }

    private func abortTransaction() async throws(MilterError) {
        if phase == .transaction || phase == .messageDone {
            try await send([.abort])
            phase = .session
        }
    }

    private func interpret(_ responses: [MilterResponse], stage: String, modificationsAllowed: Bool) throws(MilterError) -> MilterAnswer {
        let final = responses.last!
        let modifications = Array(responses.dropLast())
        if !modificationsAllowed, let first = modifications.first {
            throw MilterError(.garbage, "a modification (\(MilterAnswer.kind(of: first) ?? "?")) before end of message")
        }
        let atConnect = stage == "connect" || stage == "helo"
        var answer = MilterAnswer(milter: milter.name, stage: stage, decision: .continue, verdict: "continue")
        answer.modifications = modifications
        answer.headerLeadingSpace = headerLeadingSpace
        switch final {
        case .continue:
            break
        case .skip:
            answer.verdict = "skip"
        case .accept:
            answer.decision = .accept
            answer.verdict = "accept"
            phase = atConnect ? .sessionDone : .messageDone
        case .reject:
            answer.decision = .refuse(MilterReplyText.reject(atConnect: stage == "connect"))
            answer.verdict = "reject"
            if stage == "connect" { phase = .sessionDone }
        case .tempfail, .connectionFailure:
            answer.decision = .refuse(MilterReplyText.tempfail(atConnect: stage == "connect"))
            answer.verdict = "tempfail"
            if stage == "connect" { phase = .sessionDone }
        case .replyCode(let text):
            guard let reply = MilterReplyText.parse(text) else {
                throw MilterError(.garbage, "a malformed reply code '\(text.prefix(80))'")
            }
            answer.decision = .refuse(reply)
            answer.verdict = "replycode"
            if stage == "connect" { phase = .sessionDone }
        case .discard:
            answer.verdict = "discard"
            // Not allowed at connect or HELO (Postfix ignores it there).
            if !atConnect {
                answer.decision = .discard
                discarding = stage != "eom" && stage != "header" && stage != "eoh" && stage != "body"
                phase = .messageDone
            }
        case .shutdown:
            answer.decision = .shutdown
            answer.verdict = "shutdown"
            phase = .sessionDone
        default:
            throw MilterError(.garbage, "an answer that is not a decision")
        }
        return answer
    }

    // MARK: - Failures

    private func failure(_ error: MilterError, stage: String, atConnect: Bool) -> MilterAnswer {
        failed = true
        connection?.close()
        connection = nil
        var answer = stickyFailure(stage: stage, atConnect: atConnect)
        answer.error = error
        return answer
    }

    private func stickyFailure(stage: String, atConnect: Bool) -> MilterAnswer {
        let reply = MilterReplyText.onError(milter.onError, atConnect: atConnect)
        return MilterAnswer(milter: milter.name, stage: stage, decision: reply.map { .refuse($0) } ?? .continue, verdict: "error")
    }

    private func restage(_ answer: MilterAnswer, _ stage: String) -> MilterAnswer {
        var answer = answer
        answer.stage = stage
        return answer
    }

    // MARK: - Helpers

    private func mailMacros(_ facts: SessionFacts) -> [(String, String)] {
        var macros: [(String, String)] = [("i", facts.sessionID), ("{mail_addr}", facts.sender ?? ""), ("{mail_mailer}", "smtp")]
        if let method = facts.saslMethod { macros.append(("{auth_type}", method)) }
        if let user = facts.saslUsername { macros.append(("{auth_authen}", user)) }
        return macros
    }

    /// `<path>` then each ESMTP parameter of a MAIL/RCPT argument.
    static func arguments(_ request: ConsultRequest) -> [String] {
        let argument = request.argument
        var parameters: [String] = []
        if let close = argument.firstIndex(of: ">") {
            parameters = argument[argument.index(after: close)...].split(separator: " ").map(String.init)
        }
        return ["<\(request.path ?? "")>"] + parameters
    }

    static func stageName(_ stage: ConsultStage) -> String {
        switch stage {
        case .connect: "connect"
        case .helo: "helo"
        case .mail: "mail"
        case .rcpt: "rcpt"
        case .data: "data"
        case .endOfMessage: "eom"
        default: stage.rawValue.lowercased()
        }
    }

    static func wait<Value: Sendable>(_ future: EventLoopFuture<Value>) async throws(MilterError) -> Value {
        do {
            return try await future.get()
        } catch let error as MilterError {
            throw error
        } catch {
            throw MilterError(.closed, "\(error)")
        }
    }
}
