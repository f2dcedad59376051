import SMTPFilters
import Testing

/// Every class of invalid rule file, with the exact `file:line: message` it gives.
@Suite struct RuleFileProblemTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var label: String
        var yaml: String
        var problems: [String]
        var testDescription: String { label }
    }

    @Test(arguments: [
        // YAML syntax
        Case(label: "tab indentation", yaml: "rules:\n  - name: x\n\taction: log\n", problems: [
            "test.yaml:3: invalid YAML: found a tab character that violates indentation (while scanning a plain scalar at line 2)",
        ]),
        Case(label: "unclosed flow list", yaml: "rules:\n  - name: x\n    command: [VRFY\n", problems: [
            "test.yaml:4: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 3)",
        ]),
        Case(label: "mapping value in scalar", yaml: "settings:\n  banner: a: b\n", problems: [
            "test.yaml:2: invalid YAML: mapping values are not allowed in this context",
        ]),
        Case(label: "duplicate key", yaml: "rules:\n  - name: x\n    action: log\n    name: y\n", problems: [
            "test.yaml:4: duplicate key 'name' in the same mapping (first at line 2)",
        ]),
        Case(label: "two documents", yaml: "rules: []\n---\nrules: []\n", problems: [
            "test.yaml:2: invalid YAML: expected a single document in the stream, but found another document",
        ]),

        // Structure
        Case(label: "root is a list", yaml: "- name: x\n  action: log\n", problems: [
            "test.yaml:1: a rule file must be a mapping with 'settings:' and/or 'rules:'",
        ]),
        Case(label: "unknown top-level key", yaml: "setings:\n  banner: x\n", problems: [
            "test.yaml:1: unknown key 'setings' at the top level (did you mean 'settings'?)",
        ]),
        Case(label: "rule key at top level", yaml: "name: x\naction: log\n", problems: [
            "test.yaml:1: unknown key 'name' at the top level (rules go in the 'rules:' list)",
            "test.yaml:2: unknown key 'action' at the top level (rules go in the 'rules:' list)",
        ]),
        Case(label: "rules not a list", yaml: "rules:\n  name: x\n", problems: [
            "test.yaml:2: 'rules' must be a list of rules, each starting with '- name:'",
        ]),
        Case(label: "rule not a mapping", yaml: "rules:\n  - VRFY\n", problems: [
            "test.yaml:2: each rule must be a mapping with 'name:' and 'action:'",
        ]),
        Case(label: "settings not a mapping", yaml: "settings: [banner]\n", problems: [
            "test.yaml:1: 'settings' must be a mapping (banner:, limits:, bare-newline:)",
        ]),

        // Rule keys
        Case(label: "unknown rule key", yaml: "rules:\n  - name: x\n    comand: VRFY\n    action: reject\n", problems: [
            "test.yaml:3: unknown key 'comand' in a rule (did you mean 'command'?)",
        ]),
        Case(label: "underscore spelling", yaml: "rules:\n  - name: x\n    ehlo_keyword: CHUNKING\n    action: strip\n", problems: [
            "test.yaml:3: unknown key 'ehlo_keyword' in a rule (did you mean 'ehlo-keyword'?)",
            "test.yaml:4: action 'strip' needs 'ehlo-keyword' (the EHLO keywords to remove)",
        ]),
        Case(label: "unrelated rule key", yaml: "rules:\n  - name: x\n    frobnicate: 1\n    action: log\n", problems: [
            "test.yaml:3: unknown key 'frobnicate' in a rule (expected 'name', 'command', 'argument', 'ehlo-keyword', 'client', 'reply-code', 'action', 'reply', 'replace', 'service', 'timeout' or 'on-error')",
        ]),
        Case(label: "missing name", yaml: "rules:\n  - command: VRFY\n    action: reject\n", problems: [
            "test.yaml:2: rule has no 'name'",
        ]),
        Case(label: "missing action", yaml: "rules:\n  - name: x\n    command: VRFY\n", problems: [
            "test.yaml:2: rule 'x' has no 'action' (log, allow, reject, rewrite, strip, disconnect or policy)",
        ]),
        Case(label: "unknown action", yaml: "rules:\n  - name: x\n    action: rejct\n", problems: [
            "test.yaml:3: unknown action 'rejct' (did you mean 'reject'?)",
        ]),
        Case(label: "unrelated action", yaml: "rules:\n  - name: x\n    action: drop\n", problems: [
            "test.yaml:3: unknown action 'drop' (expected log, allow, reject, rewrite, strip, disconnect or policy)",
        ]),
        Case(label: "bad rule name", yaml: "rules:\n  - name: no vrfy\n    action: log\n", problems: [
            "test.yaml:2: rule name 'no vrfy' may only contain letters, digits, '.', '_' and '-'",
        ]),
        Case(label: "name is a list", yaml: "rules:\n  - name: [a, b]\n    action: log\n", problems: [
            "test.yaml:2: 'name' must be a single value, not a list",
        ]),
        Case(label: "action without value", yaml: "rules:\n  - name: x\n    action:\n", problems: [
            "test.yaml:3: 'action' has no value",
        ]),
        Case(label: "duplicate rule name", yaml: "rules:\n  - name: x\n    action: log\n  - name: x\n    action: log\n", problems: [
            "test.yaml:4: duplicate rule name 'x' (first defined at test.yaml:2)",
        ]),
        Case(label: "bad verb", yaml: "rules:\n  - name: x\n    command: [VRFY, 'MAIL FROM']\n    action: reject\n", problems: [
            "test.yaml:3: 'MAIL FROM' is not a command verb (letters, digits and '-', or \"*\" for any)",
        ]),
        Case(label: "star among verbs", yaml: "rules:\n  - name: x\n    command:\n      - VRFY\n      - '*'\n    action: log\n", problems: [
            "test.yaml:5: '*' (any command) cannot be listed with other verbs",
        ]),
        Case(label: "empty command list", yaml: "rules:\n  - name: x\n    command: []\n    action: log\n", problems: [
            "test.yaml:3: 'command' must not be an empty list",
        ]),
        Case(label: "invalid regex", yaml: "rules:\n  - name: x\n    command: MAIL\n    argument: '([a-'\n    action: reject\n", problems: [
            "test.yaml:4: invalid regex '([a-': expected ']'",
        ]),
        Case(label: "empty regex", yaml: "rules:\n  - name: x\n    argument: ''\n    action: reject\n", problems: [
            "test.yaml:3: 'argument' must not be empty (leave it out to match any argument)",
        ]),
        Case(label: "host bits in CIDR", yaml: "rules:\n  - name: x\n    client:\n      - 192.0.2.0/24\n      - 203.0.113.5/24\n    action: disconnect\n", problems: [
            "test.yaml:5: '203.0.113.5/24' has host bits set (did you mean 203.0.113.0/24 or 203.0.113.5?)",
        ]),
        Case(label: "bad CIDR v6", yaml: "rules:\n  - name: x\n    client: [2001:db8::/129, example.org]\n    action: disconnect\n", problems: [
            "test.yaml:3: '2001:db8::/129' has an invalid prefix length (0…128 for IPv6)",
            "test.yaml:3: 'example.org' is not an IP address or CIDR block (e.g. 203.0.113.0/24, 2001:db8::/32)",
        ]),
        Case(label: "bad EHLO keyword", yaml: "rules:\n  - name: x\n    ehlo-keyword: 'SIZE 10'\n    action: strip\n", problems: [
            "test.yaml:3: 'SIZE 10' is not an EHLO keyword (letters, digits and '-')",
        ]),
        Case(label: "bad reply code", yaml: "rules:\n  - name: x\n    reply-code: [550, 6xx]\n    action: log\n", problems: [
            "test.yaml:3: '6xx' is not a reply code (200…599) or a class of codes (2xx…5xx)",
        ]),

        // Keys that do not go together
        Case(label: "rewrite without replace", yaml: "rules:\n  - name: x\n    argument: '^FROM'\n    action: rewrite\n", problems: [
            "test.yaml:4: action 'rewrite' needs 'replace' (the text that replaces the match)",
        ]),
        Case(label: "rewrite without argument", yaml: "rules:\n  - name: x\n    action: rewrite\n    replace: y\n", problems: [
            "test.yaml:3: action 'rewrite' needs 'argument' (the regex whose first match is replaced)",
        ]),
        Case(label: "replace without rewrite", yaml: "rules:\n  - name: x\n    command: VRFY\n    action: reject\n    replace: y\n", problems: [
            "test.yaml:5: 'replace' is only for action 'rewrite'",
        ]),
        Case(label: "replace refers to a missing group", yaml: "rules:\n  - name: x\n    argument: '^FROM:<(.*)>'\n    action: rewrite\n    replace: '$2'\n", problems: [
            "test.yaml:5: 'replace' refers to group 2, but the 'argument' regex has 1 group",
        ]),
        Case(label: "replace with a lone $", yaml: "rules:\n  - name: x\n    argument: '^a'\n    action: rewrite\n    replace: 'US$'\n", problems: [
            "test.yaml:5: '$' in 'US$' must be followed by a group number, {name} or '$' (write '$$' for a literal '$')",
        ]),
        Case(label: "strip without keyword", yaml: "rules:\n  - name: x\n    command: BDAT\n    action: strip\n", problems: [
            "test.yaml:4: action 'strip' needs 'ehlo-keyword' (the EHLO keywords to remove)",
        ]),
        Case(label: "keyword with reject", yaml: "rules:\n  - name: x\n    ehlo-keyword: CHUNKING\n    action: reject\n", problems: [
            "test.yaml:3: 'ehlo-keyword' is only for actions 'strip' and 'log'",
        ]),
        Case(label: "keyword with command", yaml: "rules:\n  - name: x\n    ehlo-keyword: CHUNKING\n    command: BDAT\n    action: strip\n", problems: [
            "test.yaml:4: 'command' cannot be combined with 'ehlo-keyword' (keyword rules apply to EHLO replies)",
        ]),
        Case(label: "reply with allow", yaml: "rules:\n  - name: x\n    command: VRFY\n    action: allow\n    reply: '502 5.5.1 no'\n", problems: [
            "test.yaml:5: 'reply' is only for actions 'reject' and 'disconnect'",
        ]),
        Case(label: "reply with 2xx", yaml: "rules:\n  - name: x\n    command: VRFY\n    action: reject\n    reply: '250 fine'\n", problems: [
            "test.yaml:5: 'reply' must have a 4xx or 5xx code (the command is refused), not 250",
        ]),
        Case(label: "reply not a reply", yaml: "rules:\n  - name: x\n    command: VRFY\n    action: reject\n    reply: 'no thanks'\n", problems: [
            "test.yaml:5: 'reply' must be one line of printable ASCII: a code and text, e.g. \"550 5.7.1 Refused\"",
        ]),
        Case(label: "reply with a line break", yaml: "rules:\n  - name: x\n    command: VRFY\n    action: reject\n    reply: \"550 a\\r\\n250 b\"\n", problems: [
            "test.yaml:5: 'reply' must be one line of printable ASCII: a code and text, e.g. \"550 5.7.1 Refused\"",
        ]),
        Case(label: "reply-code with reject", yaml: "rules:\n  - name: x\n    reply-code: 550\n    action: reject\n", problems: [
            "test.yaml:3: 'reply-code' rules can only 'log' (server replies are audited, not changed)",
        ]),
        Case(label: "reply-code with argument", yaml: "rules:\n  - name: x\n    reply-code: 550\n    argument: '^FROM'\n    action: log\n", problems: [
            "test.yaml:4: 'argument' cannot be combined with 'reply-code' (reply rules match code, command and client)",
        ]),

        // Settings
        Case(label: "unknown setting", yaml: "settings:\n  baner: x\n", problems: [
            "test.yaml:2: unknown key 'baner' in 'settings' (did you mean 'banner'?)",
        ]),
        Case(label: "limit outside limits", yaml: "settings:\n  max-recipients: 5\n", problems: [
            "test.yaml:2: unknown key 'max-recipients' in 'settings' (it belongs under 'limits:')",
        ]),
        Case(label: "unknown limit", yaml: "settings:\n  limits:\n    max-recipient: 5\n", problems: [
            "test.yaml:3: unknown key 'max-recipient' in 'limits' (did you mean 'max-recipients'?)",
        ]),
        Case(label: "limit not a number", yaml: "settings:\n  limits:\n    max-message-size: 50MiB\n", problems: [
            "test.yaml:3: 'max-message-size' must be a positive integer (octets), not '50MiB'",
        ]),
        Case(label: "limit zero", yaml: "settings:\n  limits:\n    max-recipients: 0\n", problems: [
            "test.yaml:3: 'max-recipients' must be a positive integer, not '0'",
        ]),
        Case(label: "limit negative", yaml: "settings:\n  limits:\n    max-recipients: -5\n", problems: [
            "test.yaml:3: 'max-recipients' must be a positive integer, not '-5'",
        ]),
        Case(label: "line length too small", yaml: "settings:\n  limits:\n    max-line-length: 63\n", problems: [
            "test.yaml:3: 'max-line-length' must be an integer of at least 64 (octets, line end included), not '63'",
        ]),
        Case(label: "limit too large", yaml: "settings:\n  limits:\n    max-message-size: 99999999999999999999\n", problems: [
            "test.yaml:3: 'max-message-size' must be a positive integer (octets), not '99999999999999999999'",
        ]),
        Case(label: "banner with line break", yaml: "settings:\n  banner: \"mx\\r\\n250 injected\"\n", problems: [
            "test.yaml:2: 'banner' must be a single line (no CR or LF)",
        ]),
        Case(label: "banner with control character", yaml: "settings:\n  banner: \"mx\\u0000\"\n", problems: [
            "test.yaml:2: 'banner' must be printable ASCII (SMTP replies are ASCII)",
        ]),
        Case(label: "empty banner", yaml: "settings:\n  banner: ''\n", problems: [
            "test.yaml:2: 'banner' must not be empty",
        ]),
        Case(label: "bad bare-newline", yaml: "settings:\n  bare-newline: strict\n", problems: [
            "test.yaml:2: 'bare-newline' must be 'normalize' or 'reject', not 'strict'",
        ]),
        Case(label: "misspelt bare-newline", yaml: "settings:\n  bare-newline: rejct\n", problems: [
            "test.yaml:2: 'bare-newline' must be 'normalize' or 'reject', not 'rejct' (did you mean 'reject'?)",
        ]),
    ])
    func reportsProblem(_ testCase: Case) {
        #expect(Fixtures.problems(testCase.yaml) == testCase.problems)
    }

    @Test func reportsEveryProblemOfAFileInLineOrder() {
        let yaml = """
            rules:
              - name: a
                action: rejct
              - name: b
                command: VRFY
                action: allow
                reply: "502 no"
              - name: c
                client: 10.0.0.1/8
                action: disconnect
            settings:
              limits:
                max-recipients: none
            """
        #expect(Fixtures.problems(yaml) == [
            "test.yaml:3: unknown action 'rejct' (did you mean 'reject'?)",
            "test.yaml:7: 'reply' is only for actions 'reject' and 'disconnect'",
            "test.yaml:9: '10.0.0.1/8' has host bits set (did you mean 10.0.0.0/8 or 10.0.0.1?)",
            "test.yaml:13: 'max-recipients' must be a positive integer, not 'none'",
        ])
    }

    @Test func problemsCarryColumns() throws {
        do {
            _ = try RuleFile(parsing: "rules:\n  - name: x\n    action: rejct\n", path: "f.yaml")
            Issue.record("expected a problem")
        } catch {
            let problem = try #require(error.problems.first)
            #expect(problem.file == "f.yaml")
            #expect(problem.line == 3)
            #expect(problem.column == 13)
        }
    }
}
