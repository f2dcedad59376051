import PcapCapture
import SMTPCore
import SMTPServices
import struct NIOCore.ByteBuffer

/// Until the first bytes say whether the connection carries SMTP, its events are held.
extension SessionTracker {
    mutating func detect(_ event: ReassemblyEvent, into output: inout [AuditEvent]) -> Outcome {
        guard let verdict = window.observe(event) else { return .keep }
        switch verdict {
        case .needMore:
            return .keep
        case .notSMTP:
            phase = .done
            _ = window.release()
            return .release
        case .smtp(let roles):
            return beginInspection(roles, into: &output)
        }
    }

    mutating func beginInspection(_ roles: SMTPSessionDetector.Roles, into output: inout [AuditEvent]) -> Outcome {
        self.roles = roles
        isSMTP = true
        phase = .inspecting
        clientSkip = roles.clientPrefix
        serverSkip = roles.serverPrefix
        let client = info.sender(of: roles.serverDirection.reversed)
        let server = info.sender(of: roles.serverDirection)
        var configuration = InspectionConfiguration(
            sessionID: sessionID,
            client: Endpoint(address: client.address, port: Int(client.port)),
            server: Endpoint(address: server.address, port: Int(server.port)),
            source: source,
            dryRun: dryRun,
            tlsMode: tlsMode
        )
        if !consultants.isEmpty { configuration.consultStages = consultants.stages(for: configuration.client) }
        configuration.copiesMessages = milters != nil
        now = Self.time(openedAt)
        var engine = InspectionEngine(configuration: configuration, policy: policy)
        engine.start(at: Self.time(openedAt), into: &effects)
        self.engine = engine
        if let tunnel = roles.tunnel {
            effects.log(
                AuditEvent(
                    timestamp: Self.time(openedAt), session: sessionID,
                    kind: .anomaly(
                        AnomalyKind(rawValue: "tunnel"),
                        detail: "SMTP inside \(tunnel); \(roles.clientPrefix) client and \(roles.serverPrefix) server octets of tunnel set-up skipped")))
        }
        collect(into: &output)
        for event in window.release() where feed(event, into: &output) == .release {
            return .release
        }
        return .keep
    }
}
