import SMTPCore

/// The rules and settings of `filters/*.yaml`, as the engine's `InspectionPolicy`.
///
///     let rules = try RuleSet.load(paths: ["filters/"])
///     rules.decide(SMTPCommand(verb: .vrfy, argument: "root"), client: client)
///     // action .reject(502 5.5.1 …), rule "no-vrfy"
///
/// Semantics (SPEC §3):
/// - **Order.** Rules run in file order, files in name order (directories are read in name order,
///   paths in the order given).
/// - **Matching.** A rule's match keys combine with AND; an absent key matches everything.
///   `command` is compared case-insensitively and `"*"` (or no `command`) matches any verb;
///   `argument` is a regex searched in the canonical argument; `client` is a list of CIDR blocks,
///   where IPv4 blocks also match IPv4-mapped IPv6 clients (`::ffff:192.0.2.1`).
/// - **Commands** (`decide`): only rules without `ehlo-keyword` and `reply-code` are consulted.
///   The first matching terminal rule (`allow`, `reject`, `rewrite`, `disconnect`) decides; each
///   `log` rule that matched before it is listed in `loggedBy`. When only `log` rules matched, the
///   action is `.forward` and `rule` names the first of them; when none matched, `.forward` with no
///   rule.
/// - **policy** rules are not terminal: each one that matches is listed in `consult` (the engine
///   asks its service before acting on the decision) and evaluation goes on to the terminal rule.
/// - **rewrite** replaces the first match of `argument` by `replace` (`$1`, `${name}`, `$$`); a
///   rewrite rule whose regex does not match does not match.
/// - **reject / disconnect** carry their `reply`, or nil for the engine's default.
/// - **EHLO keywords** (`stripRule`): the first `strip` rule listing the keyword (and matching the
///   client) removes it. **Replies** (`replyRules`): every `log` rule whose `reply-code` matches
///   the code, whose `command` matches the verb answered, and whose `client` matches.
/// - **Settings** are merged across files: each limit is the smallest any file sets, `banner`
///   comes from the last file that sets one, `bare-newline` is `reject` if any file says so.
public struct RuleSet: InspectionPolicy {
    /// Every rule, in evaluation order.
    public let rules: [Rule]
    public let settings: PolicySettings
    /// `settings.milters:` of every file, in load order (SPEC §12).
    public internal(set) var milters: [MilterSettings] = []
    /// `settings.spool:` (the last file that sets it); nil: the system's temporary directory.
    public internal(set) var spool: String?
    /// `client-limits:` of every file and the settings that go with them (SPEC §10), for the
    /// drivers' counter store; the engine itself never reads them.
    public var clientLimits = ClientLimits()

    let commandRules: [Rule]
    /// For each verb some command rule names, the indices into `commandRules` of the rules that
    /// can match it (those naming it and those for any verb), in rule order; `anyVerbRules` for
    /// every other verb. `decide` looks the verb up once instead of asking every rule.
    let commandRulesByVerb: [SMTPVerb: [Int]]
    let anyVerbRules: [Int]
    let ehloKeywordRules: [Rule]
    let replyCodeRules: [Rule]
    let usesClientAddress: Bool
    /// The `action: policy` rules by name (`policyService(named:)`).
    let policyRulesByName: [String: Rule]

    /// A rule set from rules already validated (names are not checked for uniqueness here; the
    /// loader does that).
    public init(rules: [Rule], settings: PolicySettings = PolicySettings()) {
        self.rules = rules
        self.settings = settings
        let commandRules = rules.filter { $0.kind == .command }
        self.commandRules = commandRules
        var named = Set<SMTPVerb>()
        for rule in commandRules {
            if case .verbs(let verbs) = rule.command { named.formUnion(verbs) }
        }
        commandRulesByVerb = Dictionary(uniqueKeysWithValues: named.map { verb in
            (verb, commandRules.indices.filter { commandRules[$0].command.matches(verb) })
        })
        anyVerbRules = commandRules.indices.filter { commandRules[$0].command == .any }
        ehloKeywordRules = rules.filter { $0.kind == .ehloKeyword }
        replyCodeRules = rules.filter { $0.kind == .replyCode }
        usesClientAddress = rules.contains { !$0.clients.isEmpty }
        policyRulesByName = Dictionary(rules.filter { $0.action == .policy }.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The empty rule set: pure audit, like `NoRules`.
    public static let empty = RuleSet(rules: [])
}
