import Prometheus
import SMTPServices

/// Policy service metrics (SPEC §11): every request's outcome per service (the rule's `service`
/// as written, e.g. `inet:127.0.0.1:10023`: bounded by the configuration).
///
///     smtp_inspect_policy_requests_total{service,answer}   answer: OK, DUNNO, REJECT, DEFER,
///                                                           DEFER_IF_PERMIT, 4NN, 5NN, PREPEND,
///                                                           WARN, unsupported
///     smtp_inspect_policy_errors_total{service,kind}       kind: refused, reset, garbage,
///                                                           oversized, timeout, overload
///     smtp_inspect_policy_latency_seconds{service}          request to answer (or failure)
extension ProxyMetrics: PolicyObserver {
    enum PolicyName {
        nonisolated(unsafe) static let requests = family(
            "policy_requests", unit: "total", help: "Policy server answers, by service and answer (the action's keyword).")
        nonisolated(unsafe) static let errors = family(
            "policy_errors", unit: "total", help: "Policy requests without a usable answer (on-error applied), by service and kind.")
        nonisolated(unsafe) static let latency = family(
            "policy_latency", unit: "seconds", help: "Time from a policy request to its answer or failure, by service.")
    }

    public func policyAnswered(service: String, answer: String, latency: Duration) {
        registry.makeCounter(descriptor: PolicyName.requests, labels: [("service", service), ("answer", answer)]).increment()
        policyLatency(service: service, latency)
    }

    public func policyFailed(service: String, kind: PolicyFailure.Kind, latency: Duration) {
        registry.makeCounter(descriptor: PolicyName.errors, labels: [("service", service), ("kind", kind.rawValue)]).increment()
        policyLatency(service: service, latency)
    }

    /// Makes the error series of `service` exist at zero (call once per configured service), so
    /// that an alert on them has a series before the first failure.
    public func registerPolicyService(_ service: String) {
        for kind in PolicyFailure.Kind.allCases {
            _ = registry.makeCounter(descriptor: PolicyName.errors, labels: [("service", service), ("kind", kind.rawValue)])
        }
    }

    private func policyLatency(service: String, _ latency: Duration) {
        registry.makeDurationHistogram(descriptor: PolicyName.latency, labels: [("service", service)], buckets: Self.latencyBuckets)
            .record(max(.zero, latency))
    }
}
