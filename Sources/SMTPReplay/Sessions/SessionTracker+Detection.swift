import PcapCapture
import SMTPCore
import struct NIOCore.ByteBuffer

/// Until the first bytes say whether the connection carries SMTP, its events are held.
extension SessionTracker {
    mutating func detect(_ event: ReassemblyEvent, into output: inout [AuditEvent]) -> Outcome {
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

    mutating func beginInspection(_ roles: SMTPSessionDetector.Roles, into output: inout [AuditEvent]) -> Outcome {
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
}
