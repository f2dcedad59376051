import PcapCapture
import SMTPCore
import struct NIOCore.ByteBuffer

/// Follows one TCP connection for a resend: detects SMTP by content as the replay does
/// (`SMTPSessionDetector`, tunnel set-ups skipped), then cuts the session into steps
/// (`ConversationStep`) and names the command each captured reply answers.
///
/// The names come from an `InspectionEngine` without rules fed the captured bytes in capture
/// order: its `reply` events pair replies with commands exactly as `replay` shows them, and its
/// `command` events carry AUTH arguments already redacted. The replies themselves are cut with
/// the same `ReplyParser` the resend reads the live server with.
struct ConversationBuilder {
    enum Phase {
        case detecting
        case collecting
        case done
    }

    /// What the extractor should do after an event.
    enum Outcome {
        case keep
        /// Forget the connection; the conversation, when it was SMTP.
        case release(CapturedConversation?)
    }

    let info: ConnectionInfo
    let session: String
    let source: String
    let openedAt: PacketTimestamp
    /// Go on past a STARTTLS answered 220 when the client's next bytes are clear text (a
    /// recording of `proxy --tls terminate`), instead of stopping there.
    let followsSTARTTLS: Bool
    private(set) var phase = Phase.detecting

    // Detection (the same limits as `SessionTracker`).
    private var window = DetectionWindow()

    // Collection.
    private var roles = SMTPSessionDetector.Roles(serverDirection: .fromResponder)
    private var conversation: CapturedConversation?
    private var clientSkip = 0
    private var serverSkip = 0
    private var serverBytes = ByteBuffer()
    private var parser = ReplyParser()
    /// The current step has received server bytes: the client's next bytes begin a new step.
    private var stepHeardServer = false
    private var replyCount = 0
    /// The step that ended with a 220 to STARTTLS, while the client's next bytes are awaited.
    private var startTLSStep: Int?
    private var engine: InspectionEngine?
    private var effects = InspectionEffects()
    /// Commands the engine read and no reply has answered yet: (verb, line as logged).
    private var openCommands: [(verb: String, line: String)] = []
    /// The engine's non-local replies not yet matched with a parsed reply: (code, verb, command).
    private var labels: [(code: Int, verb: String?, command: String?)] = []

    init(info: ConnectionInfo, sessionPrefix: String, source: String, at time: PacketTimestamp, followsSTARTTLS: Bool = false) {
        self.info = info
        self.followsSTARTTLS = followsSTARTTLS
        session = "\(sessionPrefix)#\(info.id)"
        self.source = "\(source)#\(info.id)"
        openedAt = time
    }

    mutating func handle(_ event: ReassemblyEvent) -> Outcome {
        switch phase {
        case .done: return .release(nil)
        case .detecting: return detect(event)
        case .collecting: return collect(event)
        }
    }

    // MARK: - Detection

    private mutating func detect(_ event: ReassemblyEvent) -> Outcome {
        guard let verdict = window.observe(event) else { return .keep }
        switch verdict {
        case .needMore:
            return .keep
        case .notSMTP:
            phase = .done
            _ = window.release()
            return .release(nil)
        case .smtp(let roles):
            begin(roles)
            for event in window.release() {
                if case .release(let conversation) = collect(event) { return .release(conversation) }
            }
            return .keep
        }
    }

    private mutating func begin(_ roles: SMTPSessionDetector.Roles) {
        self.roles = roles
        phase = .collecting
        clientSkip = roles.clientPrefix
        serverSkip = roles.serverPrefix
        let client = info.sender(of: roles.serverDirection.reversed)
        let server = info.sender(of: roles.serverDirection)
        let clientEndpoint = Endpoint(address: client.address, port: Int(client.port))
        let serverEndpoint = Endpoint(address: server.address, port: Int(server.port))
        conversation = CapturedConversation(
            session: session, source: source, client: clientEndpoint, server: serverEndpoint, steps: [ConversationStep()],
            fromHandshake: info.initiatorFromHandshake)
        var engine = InspectionEngine(
            configuration: InspectionConfiguration(
                sessionID: session, client: clientEndpoint, server: serverEndpoint, source: source,
                // Past a STARTTLS the engine reads on in clear text, as when it terminates TLS itself.
                tlsMode: followsSTARTTLS ? .terminate : .passthrough))
        engine.start(at: SessionTracker.time(openedAt), into: &effects)
        effects.removeAll()
        self.engine = engine
    }

    // MARK: - Collection

    private mutating func collect(_ event: ReassemblyEvent) -> Outcome {
        let time = SessionTracker.time(event.timestamp)
        switch event.kind {
        case .opened, .overlapConflict, .closed:
            return .keep
        case .data(let direction, var bytes):
            if direction == roles.serverDirection {
                guard SessionTracker.skip(&bytes, &serverSkip) else { return .keep }
                return receiveServer(bytes, at: time)
            }
            guard SessionTracker.skip(&bytes, &clientSkip) else { return .keep }
            return receiveClient(bytes, at: time)
        case .gap(let direction, let count):
            // The step in progress is incomplete: resend only what came before it.
            conversation!.steps.removeLast()
            conversation!.stop = .gap(stream: direction == roles.serverDirection ? "server→client" : "client→server", count: count)
            return finish()
        case .finished:
            return finish()
        }
    }

    private mutating func receiveClient(_ bytes: ByteBuffer, at time: SMTPTimestamp) -> Outcome {
        if let step = startTLSStep {
            startTLSStep = nil
            // A TLS record (a ClientHello: content type 22) means the capture holds TLS itself.
            if bytes.readableBytesView.first == 0x16 {
                conversation!.stop = .startTLS(step: step)
                return finish()
            }
            conversation!.steps.append(ConversationStep(startsTLS: true))
            stepHeardServer = false
        }
        if stepHeardServer {
            conversation!.steps.append(ConversationStep())
            stepHeardServer = false
        }
        var copy = bytes
        conversation!.steps[conversation!.steps.count - 1].clientBytes.writeBuffer(&copy)
        engine!.receiveFromClient(bytes, at: time, into: &effects)
        absorbEngineEffects()
        return .keep
    }

    private mutating func receiveServer(_ bytes: ByteBuffer, at time: SMTPTimestamp) -> Outcome {
        stepHeardServer = true
        var copy = bytes
        serverBytes.writeBuffer(&copy)
        var items: [ReplyParser.Item] = []
        while let item = parser.next(from: &serverBytes) { items.append(item) }
        serverBytes.discardReadBytes()
        engine!.receiveFromServer(bytes, at: time, into: &effects)
        absorbEngineEffects()
        let step = conversation!.steps.count - 1
        for item in items {
            var reply = CapturedReply(reply: ResendReply(item), index: replyCount)
            replyCount += 1
            if case .reply(let parsed, _) = item, !labels.isEmpty {
                let label = labels.removeFirst()
                if label.code == parsed.code {
                    reply.verb = label.verb
                    reply.command = label.command
                }
            }
            conversation!.steps[step].replies.append(reply)
            if reply.verb == "STARTTLS", reply.reply.code == 220 {
                // What follows is TLS (and server bytes pipelined after the 220 belong to nobody).
                guard followsSTARTTLS else {
                    conversation!.stop = .startTLS(step: step)
                    return finish()
                }
                // The client's next bytes tell whether the capture holds TLS or its clear text.
                startTLSStep = step
                return .keep
            }
        }
        if engine!.waitingFor == .relay {
            conversation!.stop = .relay(step: step)
            return finish()
        }
        return .keep
    }

    /// Takes the engine's command and reply events: commands wait for their replies, replies
    /// become labels for the parsed replies.
    private mutating func absorbEngineEffects() {
        for event in effects.events {
            switch event.kind {
            case .command(let record):
                openCommands.append((record.verb, record.arg.isEmpty ? record.verb : "\(record.verb) \(record.arg)"))
            case .reply(let record):
                let command: String?
                switch record.forVerb {
                case "greeting": command = "(greeting)"
                case ".": command = "(end of data)"
                case nil: command = nil
                case let verb?:
                    // Replies come in command order (pipelining included), as `SessionTable` pairs them;
                    // the reply to an AUTH response line is reported `for` AUTH.
                    command = openCommands.isEmpty ? verb : openCommands.removeFirst().line
                }
                if !record.local { labels.append((record.code, record.forVerb, command)) }
            default:
                break
            }
        }
        effects.removeAll()
    }

    private mutating func finish() -> Outcome {
        phase = .done
        engine = nil
        let result = conversation
        conversation = nil
        return .release(result)
    }
}
