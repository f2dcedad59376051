#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers
import NIOCore
import SMTPCore
import SMTPFilters

/// Asks `settings.milters` about each session and message (SPEC §12), in order, as Postfix's
/// `smtpd_milters`: one connection per milter per SMTP session.
///
/// What the driver calls:
/// - `consult(_:at:on:)` at CONNECT, HELO, MAIL, RCPT and DATA (`stages(for:)`): the first
///   milter that refuses answers the command (`.reply`), a milter's shutdown closes the session
///   (`.disconnect`), else `.proceed`.
/// - At END-OF-MESSAGE (also in `stages(for:)`): `endOfMessage(_:facts:on:)` with the held
///   message (a `MessageSpool` from `makeSpool()`, filled with the unstuffed content); its
///   outcome's `verdict` goes to the engine, its `message` and `envelope` to the upstream when the
///   verdict is `.proceed`. `consult` at END-OF-MESSAGE then proceeds for that transaction (and
///   refuses, 451, one whose message the milters never read).
/// - `observe(_:)` with every event: at `session-end` each milter gets `SMFIC_QUIT`.
public final class MilterConsultant: SessionConsultant {
    public let milters: [MilterSettings]
    /// Where held messages larger than 1 MiB wait (nil: the system's temporary directory).
    public let spoolDirectory: String?
    /// `max-message-size`: a held message never grows beyond it.
    public let maximumMessageSize: Int?
    /// The `j` macro (the MTA's name).
    public let hostname: String
    private let observer: (any MilterObserver)?
    private let sessions = NIOLockedValueBox<[String: [MilterConversation]]>([:])
    /// The transaction (`SessionFacts.transaction`) whose message `endOfMessage` judged last, by session.
    private let examinedTransactions = NIOLockedValueBox<[String: Int]>([:])

    public init(
        milters: [MilterSettings], spoolDirectory: String? = nil, maximumMessageSize: Int? = nil, hostname: String? = nil,
        observer: (any MilterObserver)? = nil
    ) {
        self.milters = milters
        self.spoolDirectory = spoolDirectory
        self.maximumMessageSize = maximumMessageSize
        self.hostname = hostname ?? Self.systemHostname()
        self.observer = observer
    }

    /// The consultant for a loaded rule set's `milters:` (nil when it has none).
    public convenience init?(rules: RuleSet, hostname: String? = nil, observer: (any MilterObserver)? = nil) {
        guard !rules.milters.isEmpty else { return nil }
        self.init(
            milters: rules.milters, spoolDirectory: rules.spool, maximumMessageSize: rules.settings.maxMessageSize,
            hostname: hostname, observer: observer)
    }

    public func stages(for client: Endpoint) -> Set<ConsultStage> {
        milters.isEmpty ? [] : [.connect, .helo, .mail, .rcpt, .data, .endOfMessage]
    }

    /// An empty spool for the next held message (in `spoolDirectory`, bounded by `maximumMessageSize`).
    public func makeSpool() -> MessageSpool {
        MessageSpool(directory: spoolDirectory, maximumSize: maximumMessageSize)
    }

    /// Removes spool files a previous run left behind (call once at start).
    @discardableResult
    public func removeSpoolLeftovers() -> Int {
        MessageSpool.removeLeftovers(in: spoolDirectory)
    }

    public func consult(_ request: ConsultRequest, at time: SMTPTimestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Verdict> {
        guard request.stage != .endOfMessage else {
            // The content is judged by `endOfMessage`; a driver that asks the whole chain afterwards
            // (for other consultants) gets `proceed` for a message the milters read. One they never
            // read is refused rather than let through unexamined.
            let examined = examinedTransactions.withLockedValue { $0[request.facts.sessionID] } == request.facts.transaction
            return eventLoop.makeSucceededFuture(
                examined
                    ? .proceed
                    : Verdict(
                        .reply(SMTPReply(code: 451, "4.3.0 Error: message not examined")),
                        events: [.anomaly(.milterError, detail: "end of message consulted without the held message")]))
        }
        let conversations = conversations(for: request.facts.sessionID, on: eventLoop)
        return eventLoop.makeFutureWithTask {
            var events: [AuditEvent.Kind] = []
            var action = Verdict.Action.proceed
            for conversation in conversations {
                guard let answer = await conversation.ask(request) else { continue }
                self.record(answer, into: &events)
                switch answer.decision {
                case .continue, .accept, .discard:
                    continue
                case .refuse(let reply):
                    action = .reply(reply)
                case .shutdown:
                    action = .disconnect(MilterReplyText.shutdown)
                }
                break
            }
            return Verdict(action, events: events)
        }
    }

    /// End of message: each milter in turn reads the message as the ones before it left it (their
    /// modifications applied), until one refuses or discards it.
    public func endOfMessage(_ spool: MessageSpool, facts: SessionFacts, on eventLoop: any EventLoop) -> EventLoopFuture<MilterMessageOutcome> {
        let conversations = conversations(for: facts.sessionID, on: eventLoop)
        examinedTransactions.withLockedValue { $0[facts.sessionID] = facts.transaction }
        return eventLoop.makeFutureWithTask {
            await self.endOfMessage(spool, facts: facts, conversations: conversations)
        }
    }

    private func endOfMessage(_ spool: MessageSpool, facts: SessionFacts, conversations: [MilterConversation]) async -> MilterMessageOutcome {
        var events: [AuditEvent.Kind] = []
        var envelope = MilterEnvelopeChanges()
        var message: HeldMessage
        do {
            message = try HeldMessage(spool: spool)
        } catch {
            return Self.spoolFailure(error, spool: spool)
        }
        for conversation in conversations {
            guard let answer = await conversation.message(message, facts: facts) else { continue }
            record(answer, into: &events)
            switch answer.decision {
            case .continue, .accept:
                do {
                    try message.apply(answer.modifications, leadingSpace: answer.headerLeadingSpace)
                } catch {
                    var outcome = Self.spoolFailure(error, spool: spool)
                    outcome.verdict.events = events + outcome.verdict.events
                    return outcome
                }
                envelope.apply(answer.modifications)
            case .refuse(let reply):
                return MilterMessageOutcome(verdict: Verdict(.reply(reply), events: events), message: message, envelope: envelope, discarded: false)
            case .discard:
                return MilterMessageOutcome(
                    verdict: Verdict(.reply(MilterReplyText.discarded), events: events), message: message, envelope: envelope, discarded: true)
            case .shutdown:
                return MilterMessageOutcome(
                    verdict: Verdict(.disconnect(MilterReplyText.shutdown), events: events), message: message, envelope: envelope,
                    discarded: false)
            }
        }
        return MilterMessageOutcome(verdict: Verdict(.proceed, events: events), message: message, envelope: envelope, discarded: false)
    }

    public func observe(_ events: ArraySlice<AuditEvent>) {
        for event in events {
            guard case .sessionEnd = event.kind else { continue }
            endSession(event.session)
        }
    }

    /// Sends `SMFIC_QUIT` to the session's milters and forgets the session (also done by
    /// `observe` at `session-end`); the task ends when every milter connection is closed.
    @discardableResult
    public func endSession(_ sessionID: String) -> Task<Void, Never> {
        let conversations = sessions.withLockedValue { $0.removeValue(forKey: sessionID) } ?? []
        examinedTransactions.withLockedValue { _ = $0.removeValue(forKey: sessionID) }
        return Task {
            for conversation in conversations { await conversation.quit() }
        }
    }

    /// Sessions with milter connections open.
    public var openSessions: Int { sessions.withLockedValue { $0.count } }

    // MARK: - Internals

    private func conversations(for sessionID: String, on eventLoop: any EventLoop) -> [MilterConversation] {
        sessions.withLockedValue { sessions in
            if let existing = sessions[sessionID] { return existing }
            let created = milters.map { MilterConversation(milter: $0, hostname: hostname, eventLoop: eventLoop) }
            sessions[sessionID] = created
            return created
        }
    }

    private func record(_ answer: MilterAnswer, into events: inout [AuditEvent.Kind]) {
        events.append(.milter(answer.record))
        if let error = answer.error {
            events.append(.anomaly(.milterError, detail: "\(answer.milter): \(error)"))
            observer?.milterFailed(milter: answer.milter, kind: error.kind.rawValue)
        }
        observer?.milterAnswered(milter: answer.milter, verdict: answer.verdict, latency: answer.latency)
    }

    private static func spoolFailure(_ error: MessageSpool.Failure, spool: MessageSpool) -> MilterMessageOutcome {
        let reply: SMTPReply
        switch error {
        case .tooLarge: reply = SMTPReply(code: 552, "5.3.4 Message size exceeds fixed limit")
        case .io: reply = SMTPReply(code: 451, "4.3.0 Error: queue file write error")
        }
        let message = (try? HeldMessage(spool: MessageSpool())) ?? (try! HeldMessage(spool: MessageSpool()))
        return MilterMessageOutcome(
            verdict: Verdict(.reply(reply), events: [.anomaly(.milterError, detail: "spool: \(error)")]), message: message,
            envelope: MilterEnvelopeChanges(), discarded: false)
    }

    static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension AnomalyKind {
    /// A milter was unreachable, slow, closed the connection, or answered outside the protocol
    /// (its `on-error` verdict applied), or a held message could not be spooled.
    public static let milterError = AnomalyKind(rawValue: "milter-error")
}
