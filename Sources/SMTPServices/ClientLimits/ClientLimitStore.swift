import NIOConcurrencyHelpers
import SMTPFilters

/// The client-limit counters of the whole process, shared by every session on every event loop
/// (and by a replay, in capture time).
///
/// Keys are spread over shards by hash; each shard is a `CounterTable` behind its own `NIOLock`,
/// held for one table operation (a hash probe and a few cell updates), so sessions on different
/// loops contend only when their keys share a shard. There is no lock over all shards: a reload
/// takes them one after the other. The shards share `client-limits-track` exactly (their
/// capacities add up to it), and each drops its own least recently seen key first; with up to
/// 64 shards and at least 1,024 keys each, a key may go a little before the globally least
/// recent one.
public final class ClientLimitStore: Sendable {
    /// One shard: its lock and its table.
    final class Shard: @unchecked Sendable {
        let lock = NIOLock()
        /// Guarded by `lock`.
        var table: CounterTable

        init(table: CounterTable) {
            self.table = table
        }

        func withLock<Result>(_ body: (inout CounterTable) throws -> Result) rethrows -> Result {
            try lock.withLock { try body(&table) }
        }
    }

    let shards: [Shard]
    private let shardShift: UInt64

    public init(limits: ClientLimits) {
        let shardCount = Self.shardCount(for: limits.trackedKeys)
        let layout = CounterLayout(limits)
        shards = Self.capacities(limits.trackedKeys, shards: shardCount).map {
            Shard(table: CounterTable(layout: layout, capacity: $0))
        }
        shardShift = UInt64(64 - shardCount.trailingZeroBitCount)
    }

    /// Keys tracked now (each shard counted under its lock, one after the other: for the
    /// `smtp_inspect_client_limit_keys` gauge at each scrape, not for every event).
    public var keyCount: Int {
        shards.reduce(0) { total, shard in total + shard.withLock { $0.count } }
    }

    /// Adopts a reloaded configuration (SIGHUP): the counters and bans of rules that keep their
    /// name are kept, the rest start afresh; a smaller `client-limits-track` drops the least
    /// recently seen keys. Sessions counting meanwhile see one layout or the other per shard.
    public func reload(_ limits: ClientLimits) {
        let layout = CounterLayout(limits)
        let capacities = Self.capacities(limits.trackedKeys, shards: shards.count)
        for (shard, capacity) in zip(shards, capacities) {
            _ = shard.withLock { $0.relayout(layout, capacity: capacity) }
        }
    }

    /// Runs `body` on `key`'s shard, under its lock.
    func withShard<Result>(of key: CounterKey, _ body: (inout CounterTable, UInt64) -> Result) -> Result {
        let hash = key.hash
        let shard = shards[shards.count == 1 ? 0 : Int(hash >> shardShift)]
        return shard.withLock { body(&$0, hash) }
    }

    /// The layout of the shard that `key` falls in.
    func layout(for key: CounterKey) -> CounterLayout {
        withShard(of: key) { table, _ in table.layout }
    }

    /// A power of two, at most 64, with at least 1,024 keys per shard (one shard for small stores,
    /// so that a small `client-limits-track` is an exact LRU).
    static func shardCount(for trackedKeys: Int) -> Int {
        var count = 1
        while count < 64, trackedKeys / (count * 2) >= 1024 { count *= 2 }
        return count
    }

    /// `total` split over `shards`, the remainder to the first ones: they add up to `total`.
    static func capacities(_ total: Int, shards: Int) -> [Int] {
        (0..<shards).map { total / shards + ($0 < total % shards ? 1 : 0) }
    }
}
