/// Remembers rule names as files are added in load order, and reports each name that was
/// already taken, at the repetition's `name:` line:
///
///     filters/20-b.yaml:3: duplicate rule name 'no-vrfy' (first defined at filters/10-a.yaml:7)
struct RuleNameRegistry {
    private var firstSeen: [String: Rule] = [:]
    private var firstLimitSeen: [String: RuleLocation?] = [:]

    /// The problems of `rules` (one file's, or any sequence) given the names seen so far.
    mutating func register(_ rules: [Rule]) -> [FilterError] {
        var problems: [FilterError] = []
        for rule in rules {
            guard let first = firstSeen[rule.name] else {
                firstSeen[rule.name] = rule
                continue
            }
            let origin = first.location.map { " (first defined at \($0))" } ?? ""
            problems.append(
                FilterError(
                    file: rule.location?.file ?? "", line: rule.location?.line,
                    message: "duplicate rule name '\(rule.name)'\(origin)"))
        }
        return problems
    }

    /// The problems of a file's `client-limits:` names (their own namespace: a limit may share a
    /// rule's name, as its metrics and events are apart).
    mutating func register(limitsOf file: RuleFile) -> [FilterError] {
        var problems: [FilterError] = []
        let entries = file.clientLimits.map { ($0.name, $0.location) } + file.clientExemptions.map { ($0.name, $0.location) }
        for (name, location) in entries.sorted(by: { ($0.1?.line ?? 0) < ($1.1?.line ?? 0) }) {
            guard let first = firstLimitSeen[name] else {
                firstLimitSeen[name] = location
                continue
            }
            let origin = first.map { " (first defined at \($0))" } ?? ""
            problems.append(
                FilterError(file: location?.file ?? "", line: location?.line, message: "duplicate client limit name '\(name)'\(origin)"))
        }
        return problems
    }
}
