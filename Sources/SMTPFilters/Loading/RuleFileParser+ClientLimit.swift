import SMTPCore
import Yams

/// `client-limits:` entries and the settings that go with them (SPEC §10): each key is read and
/// checked, then the keys are checked together, every problem reported at its line.
extension RuleFileParser {
    static let clientLimitKeys = ["name", "count", "max", "per", "key", "action", "for", "delay", "reply", "client"]
    /// The longest `greet-pause` (a client waits this long for a greeting; RFC 5321 §4.5.3.2 gives it 5 minutes).
    static let longestGreetPause = Duration.seconds(300)

    mutating func parseClientLimits(_ node: Node) {
        if isNull(node) { return }
        guard let sequence = node.sequence else {
            report("'client-limits' must be a list of limits, each starting with '- name:'", at: node)
            return
        }
        for item in sequence {
            parseClientLimit(item)
        }
    }

    private mutating func parseClientLimit(_ node: Node) {
        guard let mapping = node.mapping else {
            report("each client limit must be a mapping with 'name:' and 'action:'", at: node)
            return
        }
        let problemsBefore = problems.count
        var fields: [String: Entry] = [:]
        let misplaced = { (key: String) in
            Self.ruleKeys.contains(key) ? "it belongs in a rule of the 'rules:' list" : nil
        }
        for entry in entries(of: mapping, allowed: Self.clientLimitKeys, in: "in a client limit", misplaced: misplaced) {
            fields[entry.name] = entry
        }
        let name = fields["name"].flatMap { ruleName($0.value) }
        if fields["name"] == nil {
            report("client limit has no 'name'", at: node)
        }
        let label = name.map { "client limit '\($0)'" } ?? "client limit"
        let actionName = fields["action"].flatMap { limitActionName($0.value) }
        if fields["action"] == nil {
            report("\(label) has no 'action' (\(KeySuggestion.alternatives(ClientLimitAction.names, quoted: false)))", at: node)
        }
        let count = fields["count"].flatMap { limitCount($0.value) }
        let max = fields["max"].flatMap { positiveInteger($0.value, key: "max") }
        let window = fields["per"].flatMap { duration($0.value, key: "per", minimum: .seconds(1)) }
        let key = fields["key"].flatMap { limitKey($0.value) }
        let banLength = fields["for"].flatMap { duration($0.value, key: "for", minimum: .seconds(1)) }
        let delay = fields["delay"].flatMap { duration($0.value, key: "delay", minimum: .milliseconds(1)) }
        let reply = fields["reply"].flatMap { refusalReply($0.value) }
        let clients = fields["client"].flatMap { cidrs($0.value) }
        if let max, max > Int(UInt32.max) {
            report("'max' must be at most \(UInt32.max)", at: fields["max"]!.value)
        }

        guard let actionName, let actionNode = fields["action"]?.value else { return }
        if actionName == "exempt" {
            checkExemption(fields, actionNode: actionNode)
            guard problems.count == problemsBefore, let name, let clients, let nameNode = fields["name"] else { return }
            clientExemptions.append(
                ClientExemption(name: name, clients: clients, location: RuleLocation(file: path, line: nameNode.key.mark?.line ?? 0)))
            return
        }
        checkLimit(fields, action: actionName, count: count, key: key, label: label, node: node)
        guard problems.count == problemsBefore, let name, let count, let max, let nameNode = fields["name"] else { return }
        let action: ClientLimitAction
        switch actionName {
        case "log": action = .log
        case "reject": action = .reject
        case "ban":
            guard let banLength else { return }
            action = .ban(for: banLength)
        default:
            guard let delay else { return }
            action = .tarpit(delay: delay)
        }
        guard count.isWindowed == (window != nil) else { return }
        clientLimits.append(
            ClientLimitRule(
                name: name, count: count, max: max, window: window, key: key ?? .address, action: action, reply: reply,
                location: RuleLocation(file: path, line: nameNode.key.mark?.line ?? 0)))
    }

    /// `exempt` takes `client:` and nothing that counts or acts.
    private mutating func checkExemption(_ fields: [String: Entry], actionNode: Node) {
        for key in ["count", "max", "per", "key", "for", "delay", "reply"] {
            if let entry = fields[key] {
                report("'\(key)' does not apply to action 'exempt' (exempt clients are never counted)", at: entry.key)
            }
        }
        if fields["client"] == nil {
            report("action 'exempt' needs 'client' (the CIDR blocks never counted nor limited)", at: actionNode)
        }
    }

    /// The keys a counting entry needs, and those that only make sense with one action.
    private mutating func checkLimit(
        _ fields: [String: Entry], action: String, count: ClientLimitCount?, key: ClientLimitKey?, label: String, node: Node
    ) {
        if let entry = fields["client"] {
            report("'client' is only for action 'exempt' (a limit counts every client that is not exempt)", at: entry.key)
        }
        if fields["count"] == nil {
            let counts = KeySuggestion.alternatives(ClientLimitCount.allCases.map(\.rawValue), quoted: false)
            report("\(label) has no 'count' (\(counts))", at: node)
        }
        if fields["max"] == nil {
            report("\(label) has no 'max' (the count at which the action applies)", at: node)
        }
        if let count {
            if count.isWindowed, fields["per"] == nil, let entry = fields["count"] {
                report("count '\(count.rawValue)' needs 'per' (the sliding window, e.g. 10m)", at: entry.value)
            }
            if !count.isWindowed, let entry = fields["per"] {
                report("'per' does not apply to count 'sessions' (it counts sessions open at once)", at: entry.key)
            }
            if count.isCountedAtConnect, key == .user, let entry = fields["key"] {
                report(
                    "key 'user' cannot count '\(count.rawValue)' (sessions are counted at connect, before any AUTH)",
                    at: entry.value)
            }
        }
        if action == "ban", fields["for"] == nil, let entry = fields["action"] {
            report("action 'ban' needs 'for' (how long the key is refused, e.g. 30m)", at: entry.value)
        }
        if action == "tarpit", fields["delay"] == nil, let entry = fields["action"] {
            report("action 'tarpit' needs 'delay' (how long each later command waits, e.g. 5s)", at: entry.value)
        }
        if action != "ban", let entry = fields["for"] {
            report("'for' is only for action 'ban'", at: entry.key)
        }
        if action != "tarpit", let entry = fields["delay"] {
            report("'delay' is only for action 'tarpit'", at: entry.key)
        }
        if action != "reject", action != "ban", let entry = fields["reply"] {
            report("'reply' is only for actions 'reject' and 'ban'", at: entry.key)
        }
    }

    // MARK: - Settings

    mutating func parseClientLimitSetting(_ entry: Entry) {
        switch entry.name {
        case "client-limits-track":
            settings.clientLimitsTrack = positiveInteger(entry.value, key: entry.name, unit: "keys")
        case "greet-pause":
            guard let pause = duration(entry.value, key: entry.name, minimum: .zero) else { return }
            if pause > Self.longestGreetPause {
                report("'greet-pause' must be at most 5m (clients give up waiting for a greeting)", at: entry.value)
            } else {
                settings.greetPause = pause
            }
        default:
            guard let text = string(entry.value, key: entry.name) else { return }
            if let policy = PregreetPolicy(rawValue: text) {
                settings.pregreet = policy
            } else {
                let hint = KeySuggestion.hint(for: text, among: PregreetPolicy.allCases.map(\.rawValue))
                report("'pregreet' must be 'log' or 'reject', not '\(text)'\(hint)", at: entry.value)
            }
        }
    }

    // MARK: - Keys

    private mutating func limitActionName(_ node: Node) -> String? {
        oneOf(ClientLimitAction.names, node, key: "action", noun: "client-limit action")
    }

    private mutating func limitCount(_ node: Node) -> ClientLimitCount? {
        oneOf(ClientLimitCount.allCases.map(\.rawValue), node, key: "count", noun: "count").flatMap(ClientLimitCount.init(rawValue:))
    }

    private mutating func limitKey(_ node: Node) -> ClientLimitKey? {
        oneOf(ClientLimitKey.allCases.map(\.rawValue), node, key: "key", noun: "key").flatMap(ClientLimitKey.init(rawValue:))
    }
}
