import NIOConcurrencyHelpers

/// The sessions the client limits know of, by session id: audit events name only the session,
/// so the counts of a reply or a message need the client (and AUTH identity) it belongs to.
/// Sharded by the id's hash, each shard behind its own lock, as the counters are.
final class ClientSessionRegistry: Sendable {
    struct Session: Sendable {
        var client: ClientIdentity
        /// The layout when the session began: which keys its events are counted by (the store
        /// resolves the rules themselves under the shard's lock, so a reload is never missed).
        var layout: CounterLayout
        var exempt: Bool
        /// The AUTH identity, once a consult's facts carried it.
        var user: String?
        /// The `connections` count includes this session (counted when its start is observed).
        var connectionCounted = false
        /// The `sessions` gauges of these keys include this session (admitted at its CONNECT
        /// consult); its end takes it away.
        var admittedKeys: [CounterKey] = []
        /// Rules (by index) whose `log` or `tarpit` hit this session already reported.
        var reported: Set<Int> = []
    }

    private final class Shard: @unchecked Sendable {
        let lock = NIOLock()
        var sessions: [String: Session] = [:]
    }

    private let shards: [Shard] = (0..<16).map { _ in Shard() }

    private func shard(_ id: String) -> Shard {
        var hasher = Hasher()
        hasher.combine(id)
        return shards[Int(UInt(bitPattern: hasher.finalize()) & 15)]
    }

    func insert(_ session: Session, id: String) {
        let shard = shard(id)
        shard.lock.withLock { shard.sessions[id] = session }
    }

    /// Changes the session, creating it with `make()` when unknown.
    func upsert<Result>(_ id: String, make: () -> Session, _ body: (inout Session) -> Result) -> Result {
        let shard = shard(id)
        return shard.lock.withLock {
            var session = shard.sessions[id] ?? make()
            let result = body(&session)
            shard.sessions[id] = session
            return result
        }
    }

    func remove(_ id: String) -> Session? {
        let shard = shard(id)
        return shard.lock.withLock { shard.sessions.removeValue(forKey: id) }
    }

    func session(_ id: String) -> Session? {
        let shard = shard(id)
        return shard.lock.withLock { shard.sessions[id] }
    }

    /// Changes a known session; nil when the session is unknown.
    func update<Result>(_ id: String, _ body: (inout Session) -> Result) -> Result? {
        let shard = shard(id)
        return shard.lock.withLock {
            guard var session = shard.sessions[id] else { return nil }
            let result = body(&session)
            shard.sessions[id] = session
            return result
        }
    }

    var count: Int {
        shards.reduce(0) { total, shard in total + shard.lock.withLock { shard.sessions.count } }
    }
}
