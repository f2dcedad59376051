import Prometheus
import SMTPCore
import SMTPServices

/// The client-limit series (SPEC §10): hits from the `limit` audit events, by rule and action
/// (`would-…` under `--dry-run`), and the keys the counters track, asked of the store at each
/// scrape (`refreshClientLimitKeys`), so counting an event costs the metrics nothing.
extension ProxyMetrics {
    enum ClientLimitName {
        nonisolated(unsafe) static let hits = ProxyMetrics.family(
            "client_limit_hits", unit: "total", help: "Client-limit rules hit, by rule and action (the limit audit events).")
        nonisolated(unsafe) static let keys = ProxyMetrics.family(
            "client_limit_keys", help: "Client keys (addresses, networks, users) the client-limit counters track now.")
    }

    /// Makes both families present from the start (the gauge at 0).
    public func registerClientLimitSeries() {
        registry.makeGauge(descriptor: ClientLimitName.keys).set(to: 0)
    }

    func clientLimitHit(_ record: LimitRecord) {
        registry.makeCounter(descriptor: ClientLimitName.hits, labels: [("rule", record.rule), ("action", record.action)])
            .increment()
    }

    /// Sets the keys gauge from the client-limit consultants of the rules in force.
    public func refreshClientLimitKeys(from chain: ConsultantChain) {
        registry.makeGauge(descriptor: ClientLimitName.keys).set(to: Double(ClientLimitConsultant.trackedKeys(in: chain)))
    }
}
