import PcapCapture
import SMTPCore
import struct NIOCore.ByteBuffer

/// Follows one TCP connection of a replay: first detects whether it carries SMTP (holding its
/// events meanwhile), then feeds both directions through an `InspectionEngine`.
struct SessionTracker {
    enum Phase {
        case detecting
        case inspecting
        /// Not SMTP, or the session is over: the connection's remaining events are ignored.
        case done
    }

    /// What the driver should do after an event.
    enum Outcome {
        case keep
        /// Stop tracking: drop the tracker and tell the reassembler to discard the connection.
        case release
    }

    let info: ConnectionInfo
    let sessionID: String
    let source: String
    let policy: any InspectionPolicy
    let dryRun: Bool
    let tlsMode: TLSMode
    let openedAt: PacketTimestamp
    private(set) var phase = Phase.detecting
    private(set) var isSMTP = false

    // Detection
    private var held: [ReassemblyEvent] = []
    private var initiatorPrefix = ByteBuffer()
    private var responderPrefix = ByteBuffer()
    private var initiatorEnded = false
    private var responderEnded = false
    static let detectionLimit = 16 * 1024
    static let holdLimit = 256 * 1024
    private var heldBytes = 0

    // Inspection
    private var engine: InspectionEngine?
    private var roles = SMTPSessionDetector.Roles(serverDirection: .fromResponder)
    private var aligner = ReplyAligner()
    private var effects = InspectionEffects()
    private var clientSkip = 0
    private var serverSkip = 0
    private var clientGone = false
    private var serverGone = false
    private var clientConflictReported = false
    private var serverConflictReported = false

    init(info: ConnectionInfo, sessionPrefix: String, source: String, policy: any InspectionPolicy, dryRun: Bool, tlsMode: TLSMode, at time: PacketTimestamp) {
        self.info = info
        self.sessionID = "\(sessionPrefix)#\(info.id)"
        self.source = "\(source)#\(info.id)"
        self.policy = policy
        self.dryRun = dryRun
        self.tlsMode = tlsMode
        self.openedAt = time
    }

    mutating func handle(_ event: ReassemblyEvent, into output: inout [AuditEvent]) -> Outcome {
        switch phase {
        case .done:
            return .release
        case .detecting:
            return detect(event, into: &output)
        case .inspecting:
            return feed(event, into: &output)
        }
    }

    // MARK: - Detection

    private mutating func detect(_ event: ReassemblyEvent, into output: inout [AuditEvent]) -> Outcome {
        var final = false
        switch event.kind {
        case .opened:
            return .keep
        case .data(let direction, var bytes):
            heldBytes += bytes.readableBytes
            let room = Self.detectionLimit - (direction == .fromInitiator ? initiatorPrefix : responderPrefix).readableBytes
            if room > 0 {
                var part = bytes.readSlice(length: min(room, bytes.readableBytes))!
                if direction == .fromInitiator { initiatorPrefix.writeBuffer(&part) } else { responderPrefix.writeBuffer(&part) }
            }
            if heldBytes > Self.holdLimit { final = true }
        case .gap(let direction, _), .closed(let direction, _):
            if direction == .fromInitiator { initiatorEnded = true } else { responderEnded = true }
        case .overlapConflict:
            break
        case .finished:
            final = true
        }
        held.append(event)
        let verdict = initiatorPrefix.withUnsafeReadableBytes { initiator in
            responderPrefix.withUnsafeReadableBytes { responder in
                SMTPSessionDetector.detect(
                    initiator: .init(bytes: initiator, ended: final || initiatorEnded),
                    responder: .init(bytes: responder, ended: final || responderEnded))
            }
        }
        switch verdict {
        case .needMore:
            return .keep
        case .notSMTP:
            phase = .done
            held = []
            return .release
        case .smtp(let roles):
            return beginInspection(roles, into: &output)
        }
    }

    private mutating func beginInspection(_ roles: SMTPSessionDetector.Roles, into output: inout [AuditEvent]) -> Outcome {
        self.roles = roles
        isSMTP = true
        phase = .inspecting
        initiatorPrefix = ByteBuffer()
        responderPrefix = ByteBuffer()
        clientSkip = roles.clientPrefix
        serverSkip = roles.serverPrefix
        let client = info.sender(of: roles.serverDirection.reversed)
        let server = info.sender(of: roles.serverDirection)
        let configuration = InspectionConfiguration(
            sessionID: sessionID,
            client: Endpoint(host: client.host, port: Int(client.port)),
            server: Endpoint(host: server.host, port: Int(server.port)),
            source: source,
            dryRun: dryRun,
            tlsMode: tlsMode
        )
        var engine = InspectionEngine(configuration: configuration, policy: policy)
        engine.start(at: Self.time(openedAt), into: &effects)
        self.engine = engine
        if let tunnel = roles.tunnel {
            effects.events.append(
                AuditEvent(
                    timestamp: Self.time(openedAt), session: sessionID,
                    kind: .anomaly(
                        AnomalyKind(rawValue: "tunnel"),
                        detail: "SMTP inside \(tunnel); \(roles.clientPrefix) client and \(roles.serverPrefix) server octets of tunnel set-up skipped")))
        }
        collect(into: &output)
        let events = held
        held = []
        for event in events where feed(event, into: &output) == .release {
            return .release
        }
        return .keep
    }

    // MARK: - Inspection

    private mutating func feed(_ event: ReassemblyEvent, into output: inout [AuditEvent]) -> Outcome {
        let time = Self.time(event.timestamp)
        switch event.kind {
        case .opened:
            return .keep
        case .data(let direction, var bytes):
            if direction == roles.serverDirection {
                guard !serverGone, Self.skip(&bytes, &serverSkip) else { return .keep }
                aligner.receiveServer(bytes)
            } else {
                guard !clientGone, Self.skip(&bytes, &clientSkip) else { return .keep }
                let filtered = aligner.filterClient(bytes)
                if filtered.readableBytes > 0 {
                    engine!.receiveFromClient(filtered, at: time, into: &effects)
                    collect(into: &output)
                }
            }
            pumpServer(at: time, into: &output)
        case .gap(let direction, let count):
            // After the proxy closed a leg, what that leg carried no longer matters.
            if direction == roles.serverDirection ? serverGone : clientGone { return .keep }
            let stream = direction == roles.serverDirection ? "server→client" : "client→server"
            flushServer(at: time, into: &output)
            effects.events.append(
                AuditEvent(
                    timestamp: time, session: sessionID,
                    kind: .anomaly(
                        .contentGap,
                        detail: "\(count) octets of the \(stream) stream are missing from the capture; "
                            + "the engine cannot resynchronise after a gap, so replay of this session stops here")))
            engine!.finish(at: time, into: &effects)
            collect(into: &output)
            phase = .done
        case .overlapConflict(let direction, let count):
            let isServer = direction == roles.serverDirection
            guard !(isServer ? serverConflictReported : clientConflictReported) else { return .keep }
            if isServer { serverConflictReported = true } else { clientConflictReported = true }
            effects.events.append(
                AuditEvent(
                    timestamp: time, session: sessionID,
                    kind: .anomaly(
                        AnomalyKind(rawValue: "tcp-overlap-conflict"),
                        detail: "\(count) octets of the \(isServer ? "server→client" : "client→server") stream were retransmitted "
                            + "with different content; the first copy was kept, as Wireshark does, but the receiver may "
                            + "have taken the other (later conflicts in this direction are not reported)")))
            collect(into: &output)
        case .closed(let direction, _):
            if direction == roles.serverDirection {
                flushServer(at: time, into: &output)
                engine!.serverClosed(at: time, into: &effects)
            } else {
                engine!.clientClosed(at: time, into: &effects)
            }
            collect(into: &output)
            pumpServer(at: time, into: &output)
        case .finished:
            flushServer(at: time, into: &output)
            engine!.finish(at: time, into: &effects)
            collect(into: &output)
            phase = .done
        }
        if phase == .inspecting, clientGone, serverGone {
            // The proxy would have closed both connections: the session is over.
            engine!.finish(at: time, into: &effects)
            collect(into: &output)
            phase = .done
        }
        return phase == .done ? .release : .keep
    }

    /// Feeds the engine every complete server reply the aligner lets through.
    private mutating func pumpServer(at time: SMTPTimestamp, into output: inout [AuditEvent]) {
        while phase == .inspecting, !serverGone {
            if !aligner.passthrough, engine!.waitingFor == .relay { aligner.enterPassthrough() }
            guard let item = aligner.nextServerItem() else { return }
            if case .feed(let bytes) = item {
                engine!.receiveFromServer(bytes, at: time, into: &effects)
                collect(into: &output)
            }
        }
    }

    /// Hands over what is left of the server's stream (an unfinished reply) before it ends.
    private mutating func flushServer(at time: SMTPTimestamp, into output: inout [AuditEvent]) {
        pumpServer(at: time, into: &output)
        guard !serverGone, let rest = aligner.takeUnfinishedServerBytes() else { return }
        engine!.receiveFromServer(rest, at: time, into: &effects)
        collect(into: &output)
    }

    /// Moves the engine's events out and notes what it closed.
    private mutating func collect(into output: inout [AuditEvent]) {
        aligner.observe(effects)
        output.append(contentsOf: effects.events)
        if effects.closeClient { clientGone = true }
        if effects.closeServer { serverGone = true }
        effects.removeAll()
    }

    /// Drops the tunnel set-up bytes still to skip; false when nothing is left.
    private static func skip(_ bytes: inout ByteBuffer, _ remaining: inout Int) -> Bool {
        if remaining > 0 {
            let count = min(remaining, bytes.readableBytes)
            bytes.moveReaderIndex(forwardBy: count)
            remaining -= count
        }
        return bytes.readableBytes > 0
    }

    static func time(_ timestamp: PacketTimestamp) -> SMTPTimestamp {
        SMTPTimestamp(seconds: timestamp.seconds, nanoseconds: timestamp.nanoseconds)
    }
}
