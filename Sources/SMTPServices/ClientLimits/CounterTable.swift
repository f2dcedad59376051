import SMTPFilters

/// One shard's counters: at most `capacity` keys, each with one `WindowCell` per rule of its key
/// kind, the least recently seen dropped first. Every operation is O(1).
///
/// Layout (struct of arrays, indexed by an entry number, so a key costs no allocation of its own):
/// the key (17 bytes), two links of an intrusive doubly-linked recency list (8), the time it was
/// last seen (8), `layout.stride` cells (12 each), and one or two `Int32` buckets of an
/// open-addressing hash index (linear probing, deletion by backward shift, at most half full).
/// Bans are rare and live in a small dictionary beside it.
///
/// Not thread-safe: `ClientLimitStore` holds one per shard behind the shard's lock.
struct CounterTable {
    struct Ban: Hashable, Sendable {
        /// Milliseconds since 1970.
        var until: Int64
        /// The banning rule's index in `layout.slots`.
        var rule: Int
        var count: Int
    }

    private(set) var layout: CounterLayout
    private(set) var capacity: Int
    /// Live entries.
    private(set) var count = 0

    private var high: [UInt64] = []
    private var low: [UInt64] = []
    private var kinds: [CounterKey.Kind] = []
    /// Recency links: towards the oldest / the newest entry; -1 at the ends.
    private var older: [Int32] = []
    private var newer: [Int32] = []
    private var lastSeen: [Int64] = []
    private var cells: [WindowCell] = []
    /// Entry numbers, -1 for an empty bucket; the length is a power of two.
    private var buckets: [Int32] = [Int32](repeating: -1, count: 16)
    private var newest: Int32 = -1
    private var oldest: Int32 = -1
    /// Entries removed because they expired, for reuse.
    private var freeEntries: [Int32] = []
    private var bans: [Int32: Ban] = [:]

    init(layout: CounterLayout, capacity: Int) {
        precondition(capacity > 0 && capacity < Int(Int32.max) / 2)
        self.layout = layout
        self.capacity = capacity
    }

    // MARK: - Lookup

    /// The entry of `key`, or nil when it is not tracked.
    func find(_ key: CounterKey, hash: UInt64) -> Int32? {
        let mask = buckets.count - 1
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = buckets[bucket]
            if entry < 0 { return nil }
            if matches(entry, key) { return entry }
            bucket = (bucket + 1) & mask
        }
    }

    /// The entry of `key`, created when new (dropping an expired or, when full, the least
    /// recently seen entry), and made the most recently seen at `now`. `change` is the change in
    /// the number of live entries (for the gauge).
    mutating func touch(_ key: CounterKey, hash: UInt64, at now: Int64) -> (entry: Int32, change: Int) {
        if let entry = find(key, hash: hash) {
            moveToNewest(entry)
            lastSeen[Int(entry)] = now
            return (entry, 0)
        }
        var change = 1
        for _ in 0..<2 where oldest >= 0 && isExpired(oldest, at: now) {
            remove(oldest)
            change -= 1
        }
        let entry: Int32
        if count == capacity {
            entry = oldest
            removeFromIndex(entry, hash: self.key(of: entry).hash)
            unlink(entry)
            bans[entry] = nil
            count -= 1
            change -= 1
        } else if let free = freeEntries.popLast() {
            entry = free
        } else {
            entry = Int32(high.count)
            appendStorage()
        }
        let index = Int(entry)
        high[index] = key.high
        low[index] = key.low
        kinds[index] = key.kind
        lastSeen[index] = now
        let base = index * layout.stride
        for column in 0..<layout.stride { cells[base + column] = WindowCell() }
        linkAsNewest(entry)
        count += 1
        insertIntoIndex(entry, hash: hash)
        return (entry, change)
    }

    // MARK: - Counting

    /// Adds `amount` to a windowed rule's cell; the new estimate.
    mutating func add(_ amount: UInt32, _ slot: CounterLayout.Slot, entry: Int32, at now: Int64) -> Int {
        cells[Int(entry) * layout.stride + slot.column].add(amount, at: now, window: slot.window)
    }

    /// Opens (+1) or closes (−1) a session for a `sessions` rule; the open sessions.
    mutating func adjustSessions(by delta: Int, _ slot: CounterLayout.Slot, entry: Int32) -> Int {
        cells[Int(entry) * layout.stride + slot.column].adjustGauge(by: delta)
    }

    /// A rule's count for an entry at `now`.
    func count(_ slot: CounterLayout.Slot, entry: Int32, at now: Int64) -> Int {
        let cell = cells[Int(entry) * layout.stride + slot.column]
        return slot.window == 0 ? Int(cell.current) : cell.estimate(at: now, window: slot.window)
    }

    // MARK: - Bans

    /// Bans the entry, and empties the banning rule's cell: the count that led to the ban is used
    /// up (as fail2ban's ticket), so when the ban ends the key starts from zero instead of being
    /// banned again at once by the same events.
    mutating func ban(_ entry: Int32, _ ban: Ban) {
        let slot = layout.slots[ban.rule]
        cells[Int(entry) * layout.stride + slot.column] = WindowCell()
        if let existing = bans[entry], existing.until >= ban.until { return }
        bans[entry] = ban
    }

    /// The entry's ban in force at `now`, if any.
    func ban(of entry: Int32, at now: Int64) -> Ban? {
        guard let ban = bans[entry], ban.until > now else { return nil }
        return ban
    }

    var banCount: Int { bans.count }

    // MARK: - Reload

    /// Lays the cells out for `newLayout`: the cells of rules that keep their name (and count,
    /// key and window) move to their new column, others start at zero; bans of rules that no
    /// longer exist are lifted. With a smaller capacity, the least recently seen entries go.
    /// Returns the change in live entries.
    mutating func relayout(_ newLayout: CounterLayout, capacity newCapacity: Int) -> Int {
        var change = 0
        while count > newCapacity {
            remove(oldest)
            change -= 1
        }
        let moves = layout.slots.compactMap { old in newLayout.slot(matching: old).map { (old, $0) } }
        var newCells = [WindowCell](repeating: WindowCell(), count: high.count * newLayout.stride)
        for entry in 0..<high.count {
            let kind = CounterLayout.ruleKey(of: kinds[entry])
            for (old, new) in moves where old.rule.key == kind {
                newCells[entry * newLayout.stride + new.column] = cells[entry * layout.stride + old.column]
            }
        }
        var newBans: [Int32: Ban] = [:]
        for (entry, ban) in bans {
            if let new = newLayout.slots.first(where: { $0.rule.name == layout.slots[ban.rule].rule.name }) {
                newBans[entry] = Ban(until: ban.until, rule: new.index, count: ban.count)
            }
        }
        cells = newCells
        bans = newBans
        layout = newLayout
        capacity = newCapacity
        return change
    }

    // MARK: - Entries

    func key(of entry: Int32) -> CounterKey {
        let index = Int(entry)
        return CounterKey(high: high[index], low: low[index], kind: kinds[index])
    }

    /// Nothing counted can count any more, no ban is in force and no session is open.
    private func isExpired(_ entry: Int32, at now: Int64) -> Bool {
        let index = Int(entry)
        if now - lastSeen[index] < 2 * layout.longestWindow { return false }
        if let ban = bans[entry], ban.until > now { return false }
        for column in layout.gaugeColumns(CounterLayout.ruleKey(of: kinds[index]))
        where cells[index * layout.stride + column].current > 0 {
            return false
        }
        return true
    }

    private mutating func remove(_ entry: Int32) {
        removeFromIndex(entry, hash: key(of: entry).hash)
        unlink(entry)
        bans[entry] = nil
        freeEntries.append(entry)
        count -= 1
    }

    private func matches(_ entry: Int32, _ key: CounterKey) -> Bool {
        let index = Int(entry)
        return low[index] == key.low && high[index] == key.high && kinds[index] == key.kind
    }

    /// One more entry's storage, growing the arrays by doubling but never past `capacity`.
    private mutating func appendStorage() {
        if high.count == high.capacity {
            let target = min(capacity, max(16, high.count * 2))
            high.reserveCapacity(target)
            low.reserveCapacity(target)
            kinds.reserveCapacity(target)
            older.reserveCapacity(target)
            newer.reserveCapacity(target)
            lastSeen.reserveCapacity(target)
            cells.reserveCapacity(target * layout.stride)
        }
        high.append(0)
        low.append(0)
        kinds.append(.address)
        older.append(-1)
        newer.append(-1)
        lastSeen.append(0)
        cells.append(contentsOf: repeatElement(WindowCell(), count: layout.stride))
    }

    // MARK: - Recency list

    private mutating func linkAsNewest(_ entry: Int32) {
        older[Int(entry)] = newest
        newer[Int(entry)] = -1
        if newest >= 0 { newer[Int(newest)] = entry }
        newest = entry
        if oldest < 0 { oldest = entry }
    }

    private mutating func unlink(_ entry: Int32) {
        let before = older[Int(entry)]
        let after = newer[Int(entry)]
        if before >= 0 { newer[Int(before)] = after } else { oldest = after }
        if after >= 0 { older[Int(after)] = before } else { newest = before }
    }

    private mutating func moveToNewest(_ entry: Int32) {
        guard entry != newest else { return }
        unlink(entry)
        linkAsNewest(entry)
    }

    // MARK: - Hash index

    private mutating func insertIntoIndex(_ entry: Int32, hash: UInt64) {
        if count * 2 > buckets.count {
            rehash(to: buckets.count * 2)  // indexes every linked entry, `entry` included
            return
        }
        let mask = buckets.count - 1
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while buckets[bucket] >= 0 { bucket = (bucket + 1) & mask }
        buckets[bucket] = entry
    }

    private mutating func removeFromIndex(_ entry: Int32, hash: UInt64) {
        let mask = buckets.count - 1
        var hole = Int(truncatingIfNeeded: hash) & mask
        while buckets[hole] != entry { hole = (hole + 1) & mask }
        var next = hole
        while true {
            next = (next + 1) & mask
            let moved = buckets[next]
            if moved < 0 { break }
            let home = Int(truncatingIfNeeded: key(of: moved).hash) & mask
            // `moved` may fill the hole unless its home lies cyclically in (hole, next].
            let homeInRange = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next)
            if !homeInRange {
                buckets[hole] = moved
                hole = next
            }
        }
        buckets[hole] = -1
    }

    private mutating func rehash(to size: Int) {
        buckets = [Int32](repeating: -1, count: size)
        let mask = size - 1
        var entry = newest
        while entry >= 0 {
            var bucket = Int(truncatingIfNeeded: key(of: entry).hash) & mask
            while buckets[bucket] >= 0 { bucket = (bucket + 1) & mask }
            buckets[bucket] = entry
            entry = older[Int(entry)]
        }
    }
}
