import Prometheus
import SMTPServices

/// `smtp_inspect_milter_*` (SPEC §12): fed by the `MilterConsultant` (it has the latency and the
/// failure kind, which the audit events do not carry).
extension ProxyMetrics: MilterObserver {
    enum MilterName {
        nonisolated(unsafe) static let verdicts = ProxyMetrics.family(
            "milter_verdicts", unit: "total",
            help: "Milter answers, by milter and verdict (continue, accept, reject, tempfail, discard, replycode, error).")
        nonisolated(unsafe) static let errors = ProxyMetrics.family(
            "milter_errors", unit: "total",
            help: "Milters unreachable, slow, closed or answering garbage (their on-error verdict applied), by milter and kind.")
        nonisolated(unsafe) static let latency = ProxyMetrics.family(
            "milter_latency", unit: "seconds", help: "Time from sending a step to a milter to its answer, by milter.")
    }

    public func milterAnswered(milter: String, verdict: String, latency: Duration) {
        registry.makeCounter(descriptor: MilterName.verdicts, labels: [("milter", milter), ("verdict", verdict)]).increment()
        if verdict != "error" {
            registry.makeDurationHistogram(descriptor: MilterName.latency, labels: [("milter", milter)], buckets: Self.latencyBuckets)
                .record(max(.zero, latency))
        }
    }

    public func milterFailed(milter: String, kind: String) {
        registry.makeCounter(descriptor: MilterName.errors, labels: [("milter", milter), ("kind", kind)]).increment()
    }
}
