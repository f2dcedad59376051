import NIOCore
import SMTPCore

/// One step of a two-sided conversation as a driver sees it.
enum Step: Hashable, Sendable {
    case client([UInt8])
    case server([UInt8])
    case clientClose
    case serverClose

    static func client(_ text: String) -> Step { .client(Array(text.utf8)) }
    static func server(_ text: String) -> Step { .server(Array(text.utf8)) }
}

/// Drives an engine as a driver would and collects everything it asked for.
struct EngineHarness {
    var engine: InspectionEngine
    var toServer: [UInt8] = []
    var toClient: [UInt8] = []
    var events: [AuditEvent] = []
    var closeClient = false
    var closeServer = false
    var shutdownServerOutput = false
    var transcript: [UInt8] = []
    /// How many times the engine asked to start TLS on each leg (`--tls terminate`).
    var clientTLSStarts = 0
    var serverTLSStarts = 0
    /// Questions the engine asked and has not had answered yet (`decide` answers them).
    var consults: [(id: ConsultID, request: ConsultRequest)] = []
    /// Every question asked, answered or not.
    var consulted: [ConsultRequest] = []
    /// Tarpit wake-ups the engine asked for.
    var resumes: [(id: ConsultID, deadline: SMTPTimestamp)] = []
    /// How often the engine asked to contact the upstream.
    var upstreamConnects = 0
    /// What the engine last said about reading the client.
    var readsPaused = false
    /// `holdsMessages`: the content handed over, and how often it was released or dropped.
    var held = ""
    var releases = 0
    var discards = 0
    /// Held BDAT messages released as one `BDAT <size> LAST` (`releaseHeldChunk`).
    var chunkReleases = 0
    private var effects = InspectionEffects()
    var time = SMTPTimestamp(seconds: 1_764_403_200)

    init(
        policy: any InspectionPolicy = NoRules(), dryRun: Bool = false, tlsMode: TLSMode = .passthrough, recording: Bool = false,
        clientTLSAtStart: Bool = false, consultStages: Set<ConsultStage> = [], holdsMessages: Bool = false, copiesMessages: Bool = false,
        xclient: Bool = false
    ) {
        var configuration = InspectionConfiguration(
            sessionID: "t1",
            client: Endpoint(host: "192.0.2.10", port: 40000),
            server: Endpoint(host: "198.51.100.25", port: 25),
            source: "test",
            dryRun: dryRun,
            tlsMode: tlsMode,
            recordsClientTranscript: recording
        )
        configuration.clientTLSAtStart = clientTLSAtStart
        configuration.consultStages = consultStages
        configuration.holdsMessages = holdsMessages
        configuration.copiesMessages = copiesMessages
        configuration.xclient = xclient
        engine = InspectionEngine(configuration: configuration, policy: policy)
        engine.start(at: time, into: &effects)
        collect()
    }

    mutating func client(_ text: String) { client(Array(text.utf8)) }
    mutating func server(_ text: String) { server(Array(text.utf8)) }

    mutating func client(_ bytes: [UInt8]) {
        engine.receiveFromClient(ByteBuffer(bytes: bytes), at: time, into: &effects)
        collect()
    }

    mutating func server(_ bytes: [UInt8]) {
        engine.receiveFromServer(ByteBuffer(bytes: bytes), at: time, into: &effects)
        collect()
    }

    mutating func run(_ step: Step) {
        switch step {
        case .client(let bytes): client(bytes)
        case .server(let bytes): server(bytes)
        case .clientClose:
            engine.clientClosed(at: time, into: &effects)
            collect()
        case .serverClose:
            engine.serverClosed(at: time, into: &effects)
            collect()
        }
    }

    /// Answers the oldest open question.
    mutating func decide(_ verdict: Verdict = .proceed) {
        let (id, _) = consults.removeFirst()
        engine.decided(id, verdict, at: time, into: &effects)
        collect()
    }

    /// Answers a question by id (a tarpit's wake-up, a stale id).
    mutating func decide(_ id: ConsultID, _ verdict: Verdict) {
        consults.removeAll { $0.id == id }
        engine.decided(id, verdict, at: time, into: &effects)
        collect()
    }

    /// The driver wrote the held message upstream.
    mutating func released() {
        engine.heldContentReleased(at: time, into: &effects)
        collect()
    }

    mutating func finish() {
        engine.finish(at: time, into: &effects)
        collect()
    }

    /// Takes what was sent so far (and forgets it).
    mutating func takeToServer() -> String {
        defer { toServer.removeAll() }
        return String(decoding: toServer, as: UTF8.self)
    }

    mutating func takeToClient() -> String {
        defer { toClient.removeAll() }
        return String(decoding: toClient, as: UTF8.self)
    }

    var commandEvents: [CommandRecord] {
        events.compactMap { if case .command(let record) = $0.kind { record } else { nil } }
    }

    var replyEvents: [ReplyRecord] {
        events.compactMap { if case .reply(let record) = $0.kind { record } else { nil } }
    }

    var messageEvents: [MessageRecord] {
        events.compactMap { if case .message(let record) = $0.kind { record } else { nil } }
    }

    var anomalyKinds: [String] {
        events.compactMap { if case .anomaly(let kind, _) = $0.kind { kind.rawValue } else { nil } }
    }

    private mutating func collect() {
        for buffer in effects.toServer { toServer += buffer.readableBytesView }
        for buffer in effects.toClient { toClient += buffer.readableBytesView }
        for buffer in effects.clientTranscript { transcript += buffer.readableBytesView }
        events += effects.events
        closeClient = closeClient || effects.closeClient
        closeServer = closeServer || effects.closeServer
        shutdownServerOutput = shutdownServerOutput || effects.shutdownServerOutput
        if effects.startClientTLS { clientTLSStarts += 1 }
        if effects.startServerTLS {
            // The batch that upgrades the upstream leg must carry nothing that has to go in clear.
            precondition(effects.toServer.isEmpty, "bytes for the upstream in the batch that starts its TLS")
            serverTLSStarts += 1
        }
        for action in effects.actions {
            switch action {
            case .consult(let id, let request):
                consults.append((id, request))
                consulted.append(request)
            case .resumeAt(let id, let deadline): resumes.append((id, deadline))
            case .connectUpstream: upstreamConnects += 1
            case .holdContent(let bytes): held += String(buffer: bytes)
            case .releaseHeldContent: releases += 1
            case .discardHeldContent: discards += 1
            case .releaseHeldChunk: chunkReleases += 1
            case .pauseClientReads: readsPaused = true
            case .resumeClientReads: readsPaused = false
            default: break
            }
        }
        effects.removeAll()
    }
}
