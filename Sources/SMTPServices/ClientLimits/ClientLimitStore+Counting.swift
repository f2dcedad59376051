import SMTPCore
import SMTPFilters

/// What the consultant asks of the store: count an event, read a rule's count, ban, look a ban
/// up. Each is one lock of one shard. Slots are resolved against the shard's own layout, so a
/// session that began before a reload counts into the reloaded rules of the same name.
extension ClientLimitStore {
    /// A rule's count for a key, and the rule as the key's shard knows it.
    struct Reading {
        var slot: CounterLayout.Slot
        var count: Int
    }

    /// Counts one `count` event (`amount` −1 closes a session) for `key` in every rule of the
    /// key's shard that counts it per the key's kind. Creates the key when new (never for −1).
    /// Returns each rule's new count, read under the same lock (so two sessions admitted at once
    /// see two different counts).
    @discardableResult
    func record(_ count: ClientLimitCount, amount: Int = 1, for key: CounterKey, at now: Int64) -> [Reading] {
        withShard(of: key) { table, hash in
            let slots = table.layout.counting(count, by: CounterLayout.ruleKey(of: key.kind))
            guard !slots.isEmpty else {
                return []
            }
            let entry: Int32
            if amount < 0 {
                guard let found = table.find(key, hash: hash) else { return [] }
                entry = found
            } else {
                entry = table.touch(key, hash: hash, at: now).entry
            }
            return slots.map { slot in
                let value =
                    slot.window == 0
                    ? table.adjustSessions(by: amount, slot, entry: entry)
                    : table.add(UInt32(amount), slot, entry: entry, at: now)
                return Reading(slot: slot, count: value)
            }
        }
    }

    /// `slot`'s count (a slot of `layout`) for `key` at `now` (0 for an untracked key); nil when
    /// the key's shard no longer has the rule (a reload removed it meanwhile).
    func reading(_ slot: CounterLayout.Slot, of layout: CounterLayout, for key: CounterKey, at now: Int64) -> Reading? {
        withShard(of: key) { table, hash in
            guard let current = table.layout === layout ? slot : table.layout.slot(matching: slot) else { return nil }
            let count = table.find(key, hash: hash).map { table.count(current, entry: $0, at: now) } ?? 0
            return Reading(slot: current, count: count)
        }
    }

    /// What a consult needs of one key, under one lock: the ban in force, and the count of each
    /// of `slots` (slots of `layout`; nil for a rule the key's shard no longer has).
    func inspect(_ key: CounterKey, slots: [CounterLayout.Slot], of layout: CounterLayout, at now: Int64)
        -> (ban: (rule: ClientLimitRule, count: Int, until: Int64)?, readings: [Reading?])
    {
        withShard(of: key) { table, hash in
            let entry = table.find(key, hash: hash)
            let ban = entry.flatMap { table.ban(of: $0, at: now) }.map { (table.layout.slots[$0.rule].rule, $0.count, $0.until) }
            let readings = slots.map { slot -> Reading? in
                guard let current = table.layout === layout ? slot : table.layout.slot(matching: slot) else { return nil }
                return Reading(slot: current, count: entry.map { table.count(current, entry: $0, at: now) } ?? 0)
            }
            return (ban, readings)
        }
    }

    /// True when `key` has a ban in force or one of `slots` (slots of `layout`) has reached its
    /// `max`: what a consult at a command asks first (most hit nothing), under one lock and
    /// without an allocation.
    func isBannedOrReached(_ key: CounterKey, slots: [CounterLayout.Slot], of layout: CounterLayout, at now: Int64) -> Bool {
        withShard(of: key) { table, hash in
            let entry = table.find(key, hash: hash)
            if let entry, table.ban(of: entry, at: now) != nil { return true }
            for slot in slots {
                guard let current = table.layout === layout ? slot : table.layout.slot(matching: slot) else { continue }
                if (entry.map { table.count(current, entry: $0, at: now) } ?? 0) >= current.rule.max { return true }
            }
            return false
        }
    }

    /// Bans `key` until `until` for `slot`'s rule (a longer ban already in force stays); the
    /// rule's count for the key starts again from zero.
    func ban(_ key: CounterKey, slot: CounterLayout.Slot, count: Int, until: Int64, at now: Int64) {
        withShard(of: key) { table, hash in
            guard let index = table.layout.slots.firstIndex(where: { $0.rule.name == slot.rule.name }) else { return }
            let entry = table.touch(key, hash: hash, at: now).entry
            table.ban(entry, CounterTable.Ban(until: until, rule: index, count: count))
        }
    }

    /// The ban in force on `key` at `now`: the banning rule, the count that banned and the end.
    func ban(of key: CounterKey, at now: Int64) -> (rule: ClientLimitRule, count: Int, until: Int64)? {
        withShard(of: key) { table, hash in
            guard let entry = table.find(key, hash: hash), let ban = table.ban(of: entry, at: now) else { return nil }
            return (table.layout.slots[ban.rule].rule, ban.count, ban.until)
        }
    }
}
