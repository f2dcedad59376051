/// Hears what the client-limit store does that no audit event reports: keys added and dropped
/// (`smtp_inspect_client_limit_keys`). Hits are `limit` audit events, counted from the log.
public protocol ClientLimitObserver: Sendable {
    /// The number of tracked keys changed by `change`. Called outside the store's locks, from
    /// any event loop, only when keys come or go (not for every event): keep it to an atomic add.
    func clientLimitKeysChanged(by change: Int)
}
