import SMTPFilters
import TestSupport
import Testing

@testable import SMTPServices

/// The per-shard table: O(1) LRU over an open-addressing index, expiry, reload.
@Suite struct CounterTableTests {
    static let yaml = """
        client-limits:
          - name: auth
            count: auth-failures
            max: 5
            per: 1m
            action: log
          - name: open
            count: sessions
            max: 10
            action: reject
        """

    static func table(capacity: Int) throws -> CounterTable {
        CounterTable(layout: CounterLayout(try LimitFixtures.limits(yaml)), capacity: capacity)
    }

    static func key(_ host: String) -> CounterKey { CounterKey.client(host).address }

    @Test func theLeastRecentlySeenKeyIsDroppedWhenFull() throws {
        var table = try Self.table(capacity: 3)
        let (a, b, c, d) = (Self.key("192.0.2.1"), Self.key("192.0.2.2"), Self.key("192.0.2.3"), Self.key("192.0.2.4"))
        for (index, key) in [a, b, c].enumerated() {
            #expect(table.touch(key, hash: key.hash, at: Int64(index)).change == 1)
        }
        _ = table.touch(a, hash: a.hash, at: 10)  // a is now the most recent; b the least
        #expect(table.touch(d, hash: d.hash, at: 11).change == 0)  // one in, one out
        #expect(table.count == 3)
        #expect(table.find(b, hash: b.hash) == nil)
        for key in [a, c, d] { #expect(table.find(key, hash: key.hash) != nil) }
    }

    @Test func aDroppedKeyStartsAfreshWhenItComesBack() throws {
        var table = try Self.table(capacity: 1)
        let layout = table.layout
        let auth = layout.slots[0]
        let (a, b) = (Self.key("192.0.2.1"), Self.key("192.0.2.2"))
        let entry = table.touch(a, hash: a.hash, at: 0).entry
        #expect(table.add(3, auth, entry: entry, at: 0) == 3)
        _ = table.touch(b, hash: b.hash, at: 1)
        let again = table.touch(a, hash: a.hash, at: 2).entry
        #expect(table.count(auth, entry: again, at: 2) == 0)
    }

    @Test func staleKeysExpireAsNewOnesArrive() throws {
        var table = try Self.table(capacity: 100)
        let (a, b, c) = (Self.key("192.0.2.1"), Self.key("192.0.2.2"), Self.key("192.0.2.3"))
        _ = table.touch(a, hash: a.hash, at: 0)
        let withSession = table.touch(b, hash: b.hash, at: 0).entry
        _ = table.adjustSessions(by: 1, table.layout.slots[1], entry: withSession)
        // Two windows (2 minutes) later a is stale; b has an open session and stays.
        #expect(table.touch(c, hash: c.hash, at: 120_000).change == 0)
        #expect(table.find(a, hash: a.hash) == nil)
        #expect(table.find(b, hash: b.hash) != nil)
        #expect(table.count == 2)
    }

    @Test func aBannedKeyDoesNotExpireUntilItsBanEnds() throws {
        var table = try Self.table(capacity: 100)
        let (a, b, c) = (Self.key("192.0.2.1"), Self.key("192.0.2.2"), Self.key("192.0.2.3"))
        let entry = table.touch(a, hash: a.hash, at: 0).entry
        table.ban(entry, CounterTable.Ban(until: 600_000, rule: 0, count: 5))
        _ = table.touch(b, hash: b.hash, at: 300_000)
        #expect(table.find(a, hash: a.hash) != nil)
        #expect(table.ban(of: entry, at: 300_000)?.until == 600_000)
        #expect(table.ban(of: entry, at: 600_000) == nil)
        _ = table.touch(c, hash: c.hash, at: 700_000)
        #expect(table.find(a, hash: a.hash) == nil)
    }

    /// Random touches against a model (a dictionary and a recency list): the index finds exactly
    /// the model's keys after every insertion, eviction and expiry (backward-shift deletion).
    @Test func theIndexAgreesWithAModelUnderRandomTraffic() throws {
        var generator = SeededGenerator(seed: 15)
        var table = try Self.table(capacity: 64)
        var recency: [CounterKey] = []  // least recent first
        let pool = (0..<200).map { Self.key("10.0.\($0 / 256).\($0 % 256)") }
        for step in 0..<20_000 {
            let key = pool[Int.random(in: 0..<pool.count, using: &generator)]
            _ = table.touch(key, hash: key.hash, at: Int64(step))
            recency.removeAll { $0 == key }
            recency.append(key)
            if recency.count > 64 { recency.removeFirst() }
            if step % 997 == 0 {
                for candidate in pool {
                    #expect((table.find(candidate, hash: candidate.hash) != nil) == recency.contains(candidate))
                }
            }
        }
        #expect(table.count == 64)
    }

    @Test func reloadKeepsTheCountersOfRulesThatKeepTheirName() throws {
        var table = try Self.table(capacity: 10)
        let a = Self.key("192.0.2.1")
        let entry = table.touch(a, hash: a.hash, at: 0).entry
        table.ban(entry, CounterTable.Ban(until: 60_000, rule: 0, count: 5))  // uses up the count so far
        _ = table.add(4, table.layout.slots[0], entry: entry, at: 0)
        _ = table.adjustSessions(by: 2, table.layout.slots[1], entry: entry)
        // The new file drops `open`, adds `other` before `auth` (so `auth` moves column).
        let reloaded = try LimitFixtures.limits("""
            client-limits:
              - name: other
                count: auth-failures
                max: 2
                per: 1m
                action: log
              - name: auth
                count: auth-failures
                max: 5
                per: 1m
                action: log
            """)
        #expect(table.relayout(CounterLayout(reloaded), capacity: 10) == 0)
        let slots = table.layout.slots
        #expect(table.count(slots[1], entry: entry, at: 1) == 4)
        #expect(table.count(slots[0], entry: entry, at: 1) == 0)
        #expect(table.ban(of: entry, at: 1)?.rule == 1)
    }

    @Test func reloadWithASmallerTrackDropsTheOldest() throws {
        var table = try Self.table(capacity: 10)
        for index in 0..<10 {
            let key = Self.key("192.0.2.\(index)")
            _ = table.touch(key, hash: key.hash, at: Int64(index))
        }
        #expect(table.relayout(table.layout, capacity: 4) == -6)
        #expect(table.count == 4)
        let oldest = Self.key("192.0.2.5")
        let newest = Self.key("192.0.2.6")
        #expect(table.find(oldest, hash: oldest.hash) == nil)
        #expect(table.find(newest, hash: newest.hash) != nil)
    }

    @Test func keysOfOneClient() {
        let v4 = CounterKey.client("192.0.2.7")
        let mapped = CounterKey.client("::ffff:192.0.2.7")
        #expect(v4.address == mapped.address)
        #expect(v4.network == CounterKey.client("192.0.2.200").network)
        #expect(v4.network != CounterKey.client("192.0.3.7").network)
        #expect(v4.network != v4.address)
        let v6 = CounterKey.client("2001:db8:1:2::5")
        #expect(v6.network == CounterKey.client("2001:db8:1:2:ffff::1").network)
        #expect(v6.network != CounterKey.client("2001:db8:1:3::5").network)
        // The allocation-free IPv4 path agrees with `IPAddress`'s rules.
        #expect(CounterKey.client("10.0.0.255").address == CounterKey.client("::ffff:10.0.0.255").address)
        for odd in ["010.0.0.1", "1.2.3", "1.2.3.4.5", "1.2.3.256", "1..2.3", "a.b.c.d", ""] {
            #expect(CounterKey.client(odd).address.kind == .address)
            #expect(CounterKey.client(odd).address != CounterKey.client("10.0.0.1").address)
        }
        #expect(CounterKey.user("bob") != CounterKey.user("Bob"))
        #expect(CounterKey.user("bob") == CounterKey.user("bob"))
    }

    @Test func shardsShareTheTrackExactly() {
        #expect(ClientLimitStore.shardCount(for: 10) == 1)
        #expect(ClientLimitStore.shardCount(for: 100_000) == 64)
        #expect(ClientLimitStore.shardCount(for: 4096) == 4)
        for total in [1, 7, 4096, 100_000, 1_000_003] {
            let capacities = ClientLimitStore.capacities(total, shards: ClientLimitStore.shardCount(for: total))
            #expect(capacities.reduce(0, +) == total)
        }
    }
}
