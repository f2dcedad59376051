import SMTPFilters
import Testing

/// Every class of invalid `client-limits:` entry and client-limit setting, with the exact
/// `file:line: message` it gives (SPEC §10).
@Suite struct ClientLimitProblemTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var label: String
        var yaml: String
        var problems: [String]
        var testDescription: String { label }
    }

    static let ban = "client-limits:\n  - name: a\n    count: auth-failures\n    max: 5\n    per: 10m\n"

    @Test(arguments: [
        // Structure
        Case(label: "not a list", yaml: "client-limits:\n  name: x\n", problems: [
            "test.yaml:2: 'client-limits' must be a list of limits, each starting with '- name:'",
        ]),
        Case(label: "entry not a mapping", yaml: "client-limits:\n  - sessions\n", problems: [
            "test.yaml:2: each client limit must be a mapping with 'name:' and 'action:'",
        ]),
        Case(label: "misspelt top-level key", yaml: "client-limit:\n  - name: x\n", problems: [
            "test.yaml:1: unknown key 'client-limit' at the top level (did you mean 'client-limits'?)",
        ]),
        Case(label: "limit key at top level", yaml: "count: sessions\n", problems: [
            "test.yaml:1: unknown key 'count' at the top level (client limits go in the 'client-limits:' list)",
        ]),
        Case(label: "limit key in a rule", yaml: "rules:\n  - name: x\n    max: 5\n    action: log\n", problems: [
            "test.yaml:3: unknown key 'max' in a rule (it belongs in a 'client-limits:' entry)",
        ]),
        Case(label: "rule key in a limit", yaml: "client-limits:\n  - name: x\n    command: AUTH\n    count: sessions\n    max: 1\n    action: log\n", problems: [
            "test.yaml:3: unknown key 'command' in a client limit (it belongs in a rule of the 'rules:' list)",
        ]),
        Case(label: "misspelt limit key", yaml: "client-limits:\n  - name: x\n    cout: sessions\n    max: 1\n    action: log\n", problems: [
            "test.yaml:2: client limit 'x' has no 'count' (sessions, connections, auth-failures, unknown-recipients, messages, recipients or refused-commands)",
            "test.yaml:3: unknown key 'cout' in a client limit (did you mean 'count'?)",
        ]),
        Case(label: "missing name, action", yaml: "client-limits:\n  - count: sessions\n    max: 1\n", problems: [
            "test.yaml:2: client limit has no 'name'",
            "test.yaml:2: client limit has no 'action' (log, reject, ban, tarpit or exempt)",
        ]),
        Case(label: "missing count and max", yaml: "client-limits:\n  - name: x\n    action: reject\n", problems: [
            "test.yaml:2: client limit 'x' has no 'count' (sessions, connections, auth-failures, unknown-recipients, messages, recipients or refused-commands)",
            "test.yaml:2: client limit 'x' has no 'max' (the count at which the action applies)",
        ]),

        // Values
        Case(label: "misspelt count", yaml: "client-limits:\n  - name: x\n    count: auth-failure\n    max: 5\n    per: 1m\n    action: log\n", problems: [
            "test.yaml:3: unknown count 'auth-failure' (did you mean 'auth-failures'?)",
        ]),
        Case(label: "misspelt action", yaml: "client-limits:\n  - name: x\n    count: sessions\n    max: 5\n    action: bann\n", problems: [
            "test.yaml:5: unknown client-limit action 'bann' (did you mean 'ban'?)",
        ]),
        Case(label: "rule action in a limit", yaml: "client-limits:\n  - name: x\n    count: sessions\n    max: 5\n    action: disconnect\n", problems: [
            "test.yaml:5: unknown client-limit action 'disconnect' (expected log, reject, ban, tarpit or exempt)",
        ]),
        Case(label: "misspelt key", yaml: "client-limits:\n  - name: x\n    count: messages\n    max: 5\n    per: 1h\n    key: adress\n    action: log\n", problems: [
            "test.yaml:6: unknown key 'adress' (did you mean 'address'?)",
        ]),
        Case(label: "max zero", yaml: "client-limits:\n  - name: x\n    count: sessions\n    max: 0\n    action: reject\n", problems: [
            "test.yaml:4: 'max' must be a positive integer, not '0'",
        ]),
        Case(label: "max too large", yaml: "client-limits:\n  - name: x\n    count: sessions\n    max: 5000000000\n    action: reject\n", problems: [
            "test.yaml:4: 'max' must be at most 4294967295",
        ]),
        Case(label: "per without unit", yaml: "client-limits:\n  - name: x\n    count: connections\n    max: 5\n    per: 60\n    action: log\n", problems: [
            "test.yaml:5: 'per' must be a duration such as 500ms, 30s, 10m or 2h, not '60'",
        ]),
        Case(label: "per in days", yaml: "client-limits:\n  - name: x\n    count: connections\n    max: 5\n    per: 1d\n    action: log\n", problems: [
            "test.yaml:5: 'per' must be a duration such as 500ms, 30s, 10m or 2h, not '1d'",
        ]),
        Case(label: "per below a second", yaml: "client-limits:\n  - name: x\n    count: connections\n    max: 5\n    per: 500ms\n    action: log\n", problems: [
            "test.yaml:5: 'per' must be at least 1s, not '500ms'",
        ]),
        Case(label: "bad reply", yaml: ban + "    action: ban\n    for: 1h\n    reply: \"250 ok\"\n", problems: [
            "test.yaml:8: 'reply' must have a 4xx or 5xx code (the command is refused), not 250",
        ]),
        Case(label: "bad exempt CIDR", yaml: "client-limits:\n  - name: x\n    client: [10.0.0.1/8]\n    action: exempt\n", problems: [
            "test.yaml:3: '10.0.0.1/8' has host bits set (did you mean 10.0.0.0/8 or 10.0.0.1?)",
        ]),

        // Keys that need each other, or exclude each other
        Case(label: "windowed count without per", yaml: "client-limits:\n  - name: x\n    count: auth-failures\n    max: 5\n    action: log\n", problems: [
            "test.yaml:3: count 'auth-failures' needs 'per' (the sliding window, e.g. 10m)",
        ]),
        Case(label: "sessions with per", yaml: "client-limits:\n  - name: x\n    count: sessions\n    max: 5\n    per: 1m\n    action: reject\n", problems: [
            "test.yaml:5: 'per' does not apply to count 'sessions' (it counts sessions open at once)",
        ]),
        Case(label: "user key at connect", yaml: "client-limits:\n  - name: x\n    count: connections\n    max: 5\n    per: 1m\n    key: user\n    action: reject\n", problems: [
            "test.yaml:6: key 'user' cannot count 'connections' (sessions are counted at connect, before any AUTH)",
        ]),
        Case(label: "ban without for", yaml: ban + "    action: ban\n", problems: [
            "test.yaml:6: action 'ban' needs 'for' (how long the key is refused, e.g. 30m)",
        ]),
        Case(label: "tarpit without delay", yaml: ban + "    action: tarpit\n", problems: [
            "test.yaml:6: action 'tarpit' needs 'delay' (how long each later command waits, e.g. 5s)",
        ]),
        Case(label: "for on a reject", yaml: ban + "    action: reject\n    for: 1h\n", problems: [
            "test.yaml:7: 'for' is only for action 'ban'",
        ]),
        Case(label: "delay on a ban", yaml: ban + "    action: ban\n    for: 1h\n    delay: 5s\n", problems: [
            "test.yaml:8: 'delay' is only for action 'tarpit'",
        ]),
        Case(label: "reply on a tarpit", yaml: ban + "    action: tarpit\n    delay: 5s\n    reply: \"450 4.7.1 slow\"\n", problems: [
            "test.yaml:8: 'reply' is only for actions 'reject' and 'ban'",
        ]),
        Case(label: "client on a limit", yaml: ban + "    action: log\n    client: [10.0.0.0/8]\n", problems: [
            "test.yaml:7: 'client' is only for action 'exempt' (a limit counts every client that is not exempt)",
        ]),
        Case(label: "exempt without client", yaml: "client-limits:\n  - name: x\n    action: exempt\n", problems: [
            "test.yaml:3: action 'exempt' needs 'client' (the CIDR blocks never counted nor limited)",
        ]),
        Case(label: "exempt that counts", yaml: "client-limits:\n  - name: x\n    client: 10.0.0.0/8\n    count: sessions\n    max: 3\n    action: exempt\n", problems: [
            "test.yaml:4: 'count' does not apply to action 'exempt' (exempt clients are never counted)",
            "test.yaml:5: 'max' does not apply to action 'exempt' (exempt clients are never counted)",
        ]),
        Case(label: "duplicate limit names", yaml: "client-limits:\n  - name: x\n    client: 10.0.0.0/8\n    action: exempt\n  - name: x\n    count: sessions\n    max: 3\n    action: reject\n", problems: [
            "test.yaml:5: duplicate client limit name 'x' (first defined at test.yaml:2)",
        ]),

        // Settings
        Case(label: "track zero", yaml: "settings:\n  client-limits-track: 0\n", problems: [
            "test.yaml:2: 'client-limits-track' must be a positive integer (keys), not '0'",
        ]),
        Case(label: "misspelt track", yaml: "settings:\n  client-limit-track: 10\n", problems: [
            "test.yaml:2: unknown key 'client-limit-track' in 'settings' (did you mean 'client-limits-track'?)",
        ]),
        Case(label: "greet-pause without unit", yaml: "settings:\n  greet-pause: 2\n", problems: [
            "test.yaml:2: 'greet-pause' must be a duration such as 500ms, 30s, 10m or 2h, not '2'",
        ]),
        Case(label: "greet-pause too long", yaml: "settings:\n  greet-pause: 10m\n", problems: [
            "test.yaml:2: 'greet-pause' must be at most 5m (clients give up waiting for a greeting)",
        ]),
        Case(label: "misspelt pregreet", yaml: "settings:\n  pregreet: rejet\n", problems: [
            "test.yaml:2: 'pregreet' must be 'log' or 'reject', not 'rejet' (did you mean 'reject'?)",
        ]),
    ])
    func reportsProblem(_ testCase: Case) {
        #expect(Fixtures.problems(testCase.yaml) == testCase.problems)
    }

    @Test func duplicateLimitNamesAcrossFilesNameTheFirst() throws {
        let first = try RuleFile(parsing: "client-limits:\n  - name: x\n    client: 10.0.0.0/8\n    action: exempt\n", path: "a.yaml")
        let second = try RuleFile(parsing: "client-limits:\n  - name: x\n    count: sessions\n    max: 3\n    action: reject\n", path: "b.yaml")
        #expect(throws: FilterError.List.self) { try RuleSet(files: [first, second]) }
        do {
            _ = try RuleSet(files: [first, second])
        } catch {
            #expect(error.problems.map(\.description) == ["b.yaml:2: duplicate client limit name 'x' (first defined at a.yaml:2)"])
        }
    }

    @Test func aLimitMayShareARulesName() throws {
        let yaml = "rules:\n  - name: auth\n    command: AUTH\n    action: log\nclient-limits:\n  - name: auth\n    count: auth-failures\n    max: 5\n    per: 10m\n    action: log\n"
        #expect(Fixtures.problems(yaml) == [])
    }
}
