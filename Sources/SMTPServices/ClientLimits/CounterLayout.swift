import SMTPCore
import SMTPFilters

/// `ClientLimits` compiled for the counter store: where each rule's cell lives in an entry, which
/// rules count each kind of event, and which stages the engine must stop at. Immutable; every
/// shard of the store holds the layout its cells are laid out by (a reload swaps it shard by
/// shard, under the shard's lock, with the cells).
final class CounterLayout: Sendable {
    /// One rule and its place (a class: passed around on every event, one retain instead of
    /// one per string of the rule).
    final class Slot: Sendable {
        let index: Int
        let rule: ClientLimitRule
        /// The cell's column within entries of the rule's key kind.
        let column: Int
        /// The window in milliseconds; 0 for `sessions`.
        let window: Int64

        init(index: Int, rule: ClientLimitRule, column: Int, window: Int64) {
            self.index = index
            self.rule = rule
            self.column = column
            self.window = window
        }
    }

    let limits: ClientLimits
    let slots: [Slot]
    /// Cells per entry: the most rules that share one key kind.
    let stride: Int
    /// The longest window (ms): an entry unseen for twice that long counts nothing any more.
    let longestWindow: Int64
    /// The union of the stages rules are checked at (empty without rules).
    let stages: Set<ConsultStage>
    /// The keys some `ban` rule bans by: a key of another kind is never banned, and a consult
    /// need not look its ban up.
    let bannedKeys: Set<ClientLimitKey>
    /// Lookup tables indexed by ordinals (`ordinal(_:)`), not hashed: read on every event.
    private let countingTable: [[Slot]]
    private let countingKeysTable: [[ClientLimitKey]]
    private let checkedTable: [[Slot]]
    private let checkedByKeyTable: [[Slot]]
    private let gaugeColumnsTable: [[Int]]

    static let commandStages: [ConsultStage] = [.helo, .mail, .rcpt, .data, .vrfy, .etrn, .auth, .otherCommand]

    init(_ limits: ClientLimits) {
        self.limits = limits
        var nextColumn: [ClientLimitKey: Int] = [:]
        var slots: [Slot] = []
        for (index, rule) in limits.rules.enumerated() {
            let column = nextColumn[rule.key, default: 0]
            nextColumn[rule.key] = column + 1
            let window = rule.window?.wholeMilliseconds ?? 0
            slots.append(Slot(index: index, rule: rule, column: column, window: window))
        }
        self.slots = slots
        stride = nextColumn.values.max() ?? 0
        longestWindow = slots.map(\.window).max() ?? 0
        var counting: [ClientLimitCount: [ClientLimitKey: [Slot]]] = [:]
        var checked: [ConsultStage: [Slot]] = [:]
        var gaugeColumns: [ClientLimitKey: [Int]] = [:]
        for slot in slots {
            counting[slot.rule.count, default: [:]][slot.rule.key, default: []].append(slot)
            if slot.rule.count == .sessions { gaugeColumns[slot.rule.key, default: []].append(slot.column) }
            for stage in Self.stages(checking: slot.rule) {
                checked[stage, default: []].append(slot)
            }
        }
        var stages = Set(checked.keys)
        if limits.rules.contains(where: { $0.key == .user }) {
            stages.insert(.auth)  // the AUTH identity is learnt there
        }
        self.stages = stages
        bannedKeys = Set(limits.rules.compactMap { rule in
            if case .ban = rule.action { rule.key } else { nil }
        })
        countingTable = ClientLimitCount.allCases.flatMap { count in
            ClientLimitKey.allCases.map { key in counting[count]?[key] ?? [] }
        }
        countingKeysTable = ClientLimitCount.allCases.map { count in
            ClientLimitKey.allCases.filter { counting[count]?[$0]?.isEmpty == false }
        }
        checkedTable = ConsultStage.allCases.map { checked[$0] ?? [] }
        checkedByKeyTable = ConsultStage.allCases.flatMap { stage in
            ClientLimitKey.allCases.map { key in (checked[stage] ?? []).filter { $0.rule.key == key } }
        }
        gaugeColumnsTable = ClientLimitKey.allCases.map { gaugeColumns[$0] ?? [] }
    }

    /// The rules counting `count` per `key`.
    func counting(_ count: ClientLimitCount, by key: ClientLimitKey) -> [Slot] {
        countingTable[Self.ordinal(count) * ClientLimitKey.allCases.count + Self.ordinal(key)]
    }

    /// The keys some rule counts `count` by.
    func keys(counting count: ClientLimitCount) -> [ClientLimitKey] {
        countingKeysTable[Self.ordinal(count)]
    }

    /// The rules a consult at `stage` looks at, in rule order.
    func checked(at stage: ConsultStage) -> [Slot] {
        checkedTable[Self.ordinal(stage)]
    }

    /// The rules a consult at `stage` looks at that count by `key`, in rule order.
    func checked(at stage: ConsultStage, by key: ClientLimitKey) -> [Slot] {
        checkedByKeyTable[Self.ordinal(stage) * ClientLimitKey.allCases.count + Self.ordinal(key)]
    }

    /// The columns of `sessions` rules in entries of `key` (an entry with open sessions is not stale).
    func gaugeColumns(_ key: ClientLimitKey) -> [Int] {
        gaugeColumnsTable[Self.ordinal(key)]
    }

    private static func ordinal(_ count: ClientLimitCount) -> Int {
        switch count {
        case .sessions: 0
        case .connections: 1
        case .authFailures: 2
        case .unknownRecipients: 3
        case .messages: 4
        case .recipients: 5
        case .refusedCommands: 6
        }
    }

    private static func ordinal(_ key: ClientLimitKey) -> Int {
        switch key {
        case .address: 0
        case .network: 1
        case .user: 2
        }
    }

    private static func ordinal(_ stage: ConsultStage) -> Int {
        switch stage {
        case .connect: 0
        case .helo: 1
        case .mail: 2
        case .rcpt: 3
        case .data: 4
        case .vrfy: 5
        case .etrn: 6
        case .auth: 7
        case .otherCommand: 8
        case .endOfMessage: 9
        }
    }

    /// Where a rule's count is compared with its `max`:
    /// - the counts known at connect (`sessions`, `connections`) at CONNECT;
    /// - every other count before the command that would add to it (AUTH, RCPT, MAIL; every
    ///   command for `refused-commands`);
    /// - a `ban` also at CONNECT (from the `max`th failure on, new sessions are refused), unless
    ///   its key is `user` (no identity is known at connect);
    /// - a `tarpit` before every command (each later command waits).
    static func stages(checking rule: ClientLimitRule) -> [ConsultStage] {
        var stages: [ConsultStage]
        switch rule.count {
        case .sessions, .connections: stages = [.connect]
        case .authFailures: stages = [.auth]
        case .unknownRecipients, .recipients: stages = [.rcpt]
        case .messages: stages = [.mail]
        case .refusedCommands: stages = commandStages
        }
        if case .ban = rule.action, rule.key != .user, !stages.contains(.connect) {
            stages.append(.connect)
        }
        if case .tarpit = rule.action {
            stages += commandStages.filter { !stages.contains($0) }
        }
        return stages
    }

    /// The rule key an entry of `kind` holds cells for.
    static func ruleKey(of kind: CounterKey.Kind) -> ClientLimitKey {
        switch kind {
        case .address: .address
        case .network: .network
        case .user, .userAddress: .user
        }
    }

    /// The slot of the rule named `name` counting the same thing the same way (a reload keeps
    /// its cells), or nil.
    func slot(matching other: Slot) -> Slot? {
        slots.first {
            $0.rule.name == other.rule.name && $0.rule.count == other.rule.count && $0.rule.key == other.rule.key
                && $0.window == other.window
        }
    }
}
