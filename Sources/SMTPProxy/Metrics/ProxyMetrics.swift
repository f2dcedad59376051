import CoreMetrics
import Prometheus
import SMTPCore

/// The `--metrics` counters of one proxy server, in Prometheus text format.
///
/// Every series is a swift-metrics `Counter`, `Meter` or `Timer` made by a `PrometheusMetricsFactory`
/// over this server's own `PrometheusCollectorRegistry`: nothing goes through the process-wide
/// `MetricsSystem`, so several servers in one process (tests) keep separate counts.
///
/// Most counts come from the audit events themselves (`record(_:)`, called wherever the session
/// writes events to the audit log), so the metrics and the log cannot disagree. What has no event
/// is reported directly: `upstreamError(_:)` and `tlsHandshake(leg:succeeded:)`.
///
/// Label values are bounded: verbs outside the SMTP set are `OTHER`, rule names come from the
/// configuration, anomaly kinds and end reasons from the engine.
public final class ProxyMetrics: Sendable {
    public static let latencyBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .microseconds(2_500_000), .seconds(5),
        .seconds(10), .seconds(30), .seconds(60),
    ]

    enum Name {
        static let sessionsStarted = "smtp_inspect_sessions_started_total"
        static let sessionsEnded = "smtp_inspect_sessions_ended_total"
        static let sessionsActive = "smtp_inspect_sessions_active"
        static let commands = "smtp_inspect_commands_total"
        static let replies = "smtp_inspect_replies_total"
        static let ruleHits = "smtp_inspect_rule_hits_total"
        static let anomalies = "smtp_inspect_anomalies_total"
        static let bytes = "smtp_inspect_bytes_total"
        static let messages = "smtp_inspect_messages_total"
        static let upstreamErrors = "smtp_inspect_upstream_errors_total"
        static let tlsHandshakes = "smtp_inspect_tls_handshakes_total"
        static let commandLatency = "smtp_inspect_command_latency_seconds"
    }

    /// The collectors; `exposition()` renders them.
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let sessionsStarted: CoreMetrics.Counter
    private let sessionsActive: Meter

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[Name.commandLatency] = Self.latencyBuckets
        self.factory = factory
        sessionsStarted = CoreMetrics.Counter(label: Name.sessionsStarted, factory: factory)
        sessionsActive = Meter(label: Name.sessionsActive, factory: factory)
        sessionsActive.set(0)
        // Series that are zero until something goes wrong are present from the start, so that a
        // rate() or an alert on them has a series to look at.
        for kind in UpstreamErrorKind.allCases {
            _ = counter(Name.upstreamErrors, [("kind", kind.rawValue)])
        }
        for leg in InspectionEngine.TLSLeg.allCases {
            for result in ["ok", "failed"] {
                _ = counter(Name.tlsHandshakes, [("leg", leg.rawValue), ("result", result)])
            }
        }
    }

    // MARK: - Observers

    /// Counts what the events of one session report (in the order the audit log gets them).
    public func record(_ events: [AuditEvent]) {
        for event in events { record(event) }
    }

    public func record(_ event: AuditEvent) {
        switch event.kind {
        case .sessionStart:
            sessionsStarted.increment()
            sessionsActive.increment()
        case .command(let record):
            counter(Name.commands, [("verb", MetricLabel.verb(record.verb)), ("action", record.action)]).increment()
            if let rule = record.rule { ruleHit(rule) }
        case .reply(let record):
            recordReply(record)
        case .message(let record):
            counter(Name.messages, [("result", MetricLabel.replyClass(record.result))]).increment()
        case .anomaly(let kind, _):
            counter(Name.anomalies, [("kind", kind.rawValue)]).increment()
        case .sessionEnd(let summary):
            sessionsActive.decrement()
            counter(Name.sessionsEnded, [("reason", summary.reason)]).increment()
            counter(Name.bytes, [("direction", "from_client")]).increment(by: summary.bytesFromClient)
            counter(Name.bytes, [("direction", "from_server")]).increment(by: summary.bytesFromServer)
            if summary.reason == "upstream-lost" { upstreamError(.lost) }
        }
    }

    private func recordReply(_ record: ReplyRecord) {
        let verb = MetricLabel.verb(record.forVerb)
        let dimensions = [("verb", verb), ("class", MetricLabel.replyClass(record.code)), ("origin", record.local ? "local" : "upstream")]
        counter(Name.replies, dimensions).increment()
        for rule in record.rules { ruleHit(rule) }
        for keyword in record.stripped { ruleHit(keyword.rule) }
        if let latency = record.latency {
            // A wall clock stepped back between command and reply gives a negative time: 0.
            let nanoseconds = max(0, latency.components.seconds * 1_000_000_000 + latency.components.attoseconds / 1_000_000_000)
            CoreMetrics.Timer(label: Name.commandLatency, dimensions: [("verb", verb)], factory: factory).recordNanoseconds(nanoseconds)
        }
    }

    private func ruleHit(_ rule: String) {
        counter(Name.ruleHits, [("rule", rule)]).increment()
    }

    // MARK: - Direct hooks (no audit event)

    /// An upstream connection that could not be made (`connect`) or broke mid-session (`lost`,
    /// counted from the `session-end` reason).
    public func upstreamError(_ kind: UpstreamErrorKind) {
        counter(Name.upstreamErrors, [("kind", kind.rawValue)]).increment()
    }

    /// A TLS handshake finished on one leg. Call it once per handshake, from the TLS handler's
    /// completion (success) or its error path (failure, including a peer that closed mid-handshake).
    public func tlsHandshake(leg: InspectionEngine.TLSLeg, succeeded: Bool) {
        counter(Name.tlsHandshakes, [("leg", leg.rawValue), ("result", succeeded ? "ok" : "failed")]).increment()
    }

    // MARK: - Exposition

    /// The Prometheus text format (version 0.0.4) of every series.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }

    /// The counter for a label set; the registry returns the same collector for the same labels.
    private func counter(_ name: String, _ dimensions: [(String, String)]) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: name, dimensions: dimensions, factory: factory)
    }
}
