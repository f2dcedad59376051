import SMTPCore
import SMTPFilters

@testable import SMTPServices

/// Builders for the client-limit tests: limits from YAML, synthetic audit events and consults.
enum LimitFixtures {
    static func limits(_ yaml: String) throws -> ClientLimits {
        try RuleSet(files: [RuleFile(parsing: yaml, path: "test.yaml")]).clientLimits
    }

    static let server = Endpoint(host: "192.0.2.25", port: 25)
    /// 2027-01-15T08:00:00Z: an hour boundary, so windows start clean.
    static let start = SMTPTimestamp(seconds: 1_800_000_000 - 1_800_000_000 % 3600)

    static func at(_ seconds: Double) -> SMTPTimestamp {
        let whole = Int64(seconds.rounded(.down))
        return SMTPTimestamp(seconds: start.seconds + whole, nanoseconds: Int32((seconds - Double(whole)) * 1e9))
    }

    static func event(_ session: String, at seconds: Double, _ kind: AuditEvent.Kind) -> AuditEvent {
        AuditEvent(timestamp: at(seconds), session: session, kind: kind)
    }

    static func sessionStart(_ session: String, from host: String, at seconds: Double) -> AuditEvent {
        event(session, at: seconds, .sessionStart(client: Endpoint(host: host, port: 40_000), server: server, source: "live"))
    }

    static func sessionEnd(_ session: String, at seconds: Double) -> AuditEvent {
        event(
            session, at: seconds,
            .sessionEnd(SessionSummary(reason: "client-quit", bytesFromClient: 0, bytesFromServer: 0, commands: 0, messages: 0, tls: "none")))
    }

    static func reply(_ session: String, at seconds: Double, _ code: Int, _ text: String, for verb: String, local: Bool = false)
        -> AuditEvent
    {
        event(session, at: seconds, .reply(ReplyRecord(code: code, text: text, forVerb: verb, local: local)))
    }

    static func request(
        _ stage: ConsultStage, session: String, from host: String, user: String? = nil
    ) -> ConsultRequest {
        ConsultRequest(
            stage: stage,
            facts: SessionFacts(
                sessionID: session, client: Endpoint(host: host, port: 40_000), server: server, saslUsername: user))
    }

    /// The `limit` records of a verdict.
    static func limitEvents(_ verdict: Verdict) -> [LimitRecord] {
        verdict.events.compactMap { if case .limit(let record) = $0 { record } else { nil } }
    }
}
