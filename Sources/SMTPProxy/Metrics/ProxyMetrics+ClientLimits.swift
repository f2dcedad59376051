import Prometheus
import SMTPCore
import SMTPServices

/// The client-limit series (SPEC §10): hits from the `limit` audit events, by rule and action
/// (`would-…` under `--dry-run`), and the keys the store tracks, from the store itself.
extension ProxyMetrics: ClientLimitObserver {
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

    public func clientLimitKeysChanged(by change: Int) {
        registry.makeGauge(descriptor: ClientLimitName.keys).increment(by: Double(change))
    }
}
