import NIOConcurrencyHelpers
import Prometheus
import SMTPCore

/// The `--metrics` counters of one proxy server, in Prometheus text format.
///
/// Every series is made on this server's own `PrometheusCollectorRegistry`, with the family's
/// `# HELP` text: nothing goes through the process-wide `MetricsSystem`, so several servers in one
/// process (tests) keep separate counts.
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

    /// A metric family: its name (`smtp_inspect_` + name + unit) and its `# HELP` line (the
    /// registry requires the same help text every time a family is asked for).
    static func family(_ name: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "smtp_inspect", metricName: name, unitName: unit, helpText: help)
    }

    /// (`MetricNameDescriptor` is a struct of `let` strings that swift-prometheus does not mark
    /// `Sendable`: immutable, so safe to share.)
    enum Name {
        nonisolated(unsafe) static let sessionsStarted = family("sessions_started", unit: "total", help: "Client sessions accepted.")
        nonisolated(unsafe) static let sessionsEnded = family(
            "sessions_ended", unit: "total", help: "Sessions ended, by the session-end reason of the audit log.")
        nonisolated(unsafe) static let sessionsActive = family("sessions_active", help: "Sessions open now.")
        nonisolated(unsafe) static let commands = family(
            "commands", unit: "total", help: "Client commands, by verb and by what the proxy did (the audit log's action).")
        nonisolated(unsafe) static let replies = family(
            "replies", unit: "total",
            help: "Replies that reached the client, by the verb they answer, reply class and origin (upstream or local).")
        nonisolated(unsafe) static let ruleHits = family("rule_hits", unit: "total", help: "Times each rule decided or logged.")
        nonisolated(unsafe) static let anomalies = family("anomalies", unit: "total", help: "Protocol anomalies, by kind.")
        nonisolated(unsafe) static let bytes = family(
            "bytes", unit: "total", help: "Octets received, by direction (counted when a session ends).")
        nonisolated(unsafe) static let messages = family(
            "messages", unit: "total", help: "Mail transactions that reached their end of data, by reply class.")
        nonisolated(unsafe) static let upstreamErrors = family(
            "upstream_errors", unit: "total", help: "Upstream connections that failed (connect) or broke mid-session (lost).")
        nonisolated(unsafe) static let tlsHandshakes = family(
            "tls_handshakes", unit: "total", help: "TLS handshakes, by leg and result.")
        nonisolated(unsafe) static let commandLatency = family(
            "command_latency", unit: "seconds",
            help: "Time from forwarding a command (for DATA and BDAT, its end of data) to the upstream's reply, by verb.")
        nonisolated(unsafe) static let auditWriteErrors = family(
            "audit_write_errors", unit: "total", help: "Writes to the audit log that failed (full disk, I/O error); retried every 200 ms.")
        nonisolated(unsafe) static let recordingWriteErrors = family(
            "recording_write_errors", unit: "total", help: "Writes to the --record file that failed (full disk, I/O error).")
    }

    /// The collectors; `exposition()` renders them.
    public let registry: PrometheusCollectorRegistry
    private let sessionsStarted: Prometheus.Counter
    private let sessionsActive: Prometheus.Gauge
    /// Gauges read from elsewhere when scraped (the client-limit keys).
    private let scrapeHooks = NIOLockedValueBox<[@Sendable (ProxyMetrics) -> Void]>([])

    private let auditWriteErrors: Prometheus.Counter
    private let recordingWriteErrors: Prometheus.Counter

    public init() {
        registry = PrometheusCollectorRegistry()
        sessionsStarted = registry.makeCounter(descriptor: Name.sessionsStarted)
        auditWriteErrors = registry.makeCounter(descriptor: Name.auditWriteErrors)
        recordingWriteErrors = registry.makeCounter(descriptor: Name.recordingWriteErrors)
        sessionsActive = registry.makeGauge(descriptor: Name.sessionsActive)
        sessionsActive.set(to: 0)
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
        registerClientLimitSeries()
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
            sessionsActive.increment(by: 1)
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
            sessionsActive.decrement(by: 1)
            counter(Name.sessionsEnded, [("reason", summary.reason)]).increment()
            counter(Name.bytes, [("direction", "from_client")]).increment(by: Int64(summary.bytesFromClient))
            counter(Name.bytes, [("direction", "from_server")]).increment(by: Int64(summary.bytesFromServer))
            if summary.reason == "upstream-lost" { upstreamError(.lost) }
        case .limit(let record):
            clientLimitHit(record)
        case .milter:
            break
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
            registry.makeDurationHistogram(descriptor: Name.commandLatency, labels: [("verb", verb)], buckets: Self.latencyBuckets)
                .record(max(.zero, latency))
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

    /// A write to the audit log failed (called by its `OutputHealth`).
    public func auditWriteError() {
        auditWriteErrors.increment()
    }

    /// A write to the `--record` file failed.
    public func recordingWriteError() {
        recordingWriteErrors.increment()
    }

    // MARK: - Exposition

    /// The Prometheus text format (version 0.0.4) of every series.
    public func exposition() -> [UInt8] {
        for hook in scrapeHooks.withLockedValue({ $0 }) { hook(self) }
        return registry.emitToBuffer()
    }

    /// Runs `hook` before each exposition (to set a gauge whose value lives elsewhere).
    public func beforeEachScrape(_ hook: @escaping @Sendable (ProxyMetrics) -> Void) {
        scrapeHooks.withLockedValue { $0.append(hook) }
    }

    /// The counter for a label set; the registry returns the same collector for the same labels.
    private func counter(_ family: MetricNameDescriptor, _ labels: [(String, String)]) -> Prometheus.Counter {
        registry.makeCounter(descriptor: family, labels: labels)
    }
}
