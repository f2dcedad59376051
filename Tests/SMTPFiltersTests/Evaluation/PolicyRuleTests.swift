import SMTPCore
import SMTPFilters
import Testing

/// `action: policy` rules (SPEC §11): what they parse to, how `decide` lists them without ending
/// the evaluation, what drivers read of them, and every invalid form with its `file:line:`.
@Suite struct PolicyRuleTests {
    static let rules = """
        rules:
          - name: greylist
            command: RCPT
            action: policy
            service: inet:127.0.0.1:10023
          - name: rate
            command: [RCPT, END-OF-MESSAGE]
            client: [192.0.2.0/24]
            action: policy
            service: unix:/run/postfwd.sock
            timeout: 500ms
            on-error: tempfail
          - name: audit-rcpt
            command: RCPT
            action: log
          - name: no-spammer
            command: RCPT
            argument: '(?i)spammer'
            action: reject
          - name: late-policy
            command: RCPT
            action: policy
            service: inet:[::1]:10040
            timeout: 2m
        """

    @Test func parsesServiceTimeoutAndOnError() throws {
        let set = try Fixtures.ruleSet(Self.rules)
        #expect(set.policyService(named: "greylist") == PolicyService(address: .inet(host: "127.0.0.1", port: 10023)))
        #expect(set.policyService(named: "greylist")?.timeout == .seconds(10))
        #expect(set.policyService(named: "greylist")?.onError == .allow)
        #expect(set.policyService(named: "rate")
            == PolicyService(address: .unix(path: "/run/postfwd.sock"), timeout: .milliseconds(500), onError: .tempfail))
        #expect(set.policyService(named: "late-policy")?.address.description == "inet:[::1]:10040")
        #expect(set.policyService(named: "late-policy")?.timeout == .seconds(120))
        #expect(set.policyService(named: "audit-rcpt") == nil)
        #expect(set.policyService(named: "nothing") == nil)
        #expect(set.policyRules.map(\.name) == ["greylist", "rate", "late-policy"])
    }

    /// Policy rules are not terminal: every one that matches before the terminal rule is listed
    /// in order, and the terminal rule still decides.
    @Test func decideListsMatchingPolicyRulesAndGoesOn() throws {
        let set = try Fixtures.ruleSet(Self.rules)
        let plain = set.decide(Fixtures.command("RCPT", "TO:<bob@example.org>"), client: Fixtures.client("192.0.2.7"))
        #expect(plain.action == .forward)
        #expect(plain.consult == ["greylist", "rate", "late-policy"])
        #expect(plain.loggedBy == ["audit-rcpt"])

        let refused = set.decide(Fixtures.command("RCPT", "TO:<spammer@example.org>"), client: Fixtures.client("192.0.2.7"))
        #expect(refused.rule == "no-spammer")
        #expect(refused.consult == ["greylist", "rate"], "rules after the terminal one are not asked")

        let otherClient = set.decide(Fixtures.command("RCPT", "TO:<bob@example.org>"), client: Fixtures.client("198.51.100.1"))
        #expect(otherClient.consult == ["greylist", "late-policy"], "client: applies to policy rules too")

        #expect(set.decide(Fixtures.command("MAIL", "FROM:<a@b>"), client: Fixtures.client()).consult.isEmpty)
        // A client that sends the pseudo-verb as a command does not trigger the end-of-message rule.
        #expect(set.decide(Fixtures.command("END-OF-MESSAGE"), client: Fixtures.client("192.0.2.7")).consult.isEmpty)
    }

    @Test func argumentNarrowsAPolicyRule() throws {
        let set = try Fixtures.ruleSet("""
            rules:
              - name: outside-senders
                command: MAIL
                argument: '(?i)@outside\\.example>'
                action: policy
                service: inet:127.0.0.1:10023
            """)
        #expect(set.decide(Fixtures.command("MAIL", "FROM:<x@outside.example>"), client: Fixtures.client()).consult == ["outside-senders"])
        #expect(set.decide(Fixtures.command("MAIL", "FROM:<x@inside.example>"), client: Fixtures.client()).consult.isEmpty)
    }

    @Test func endOfMessageRulesPerClient() throws {
        let set = try Fixtures.ruleSet(Self.rules + """

              - name: helo-check
                command: [HELO, EHLO, VRFY, ETRN, DATA]
                action: policy
                service: inet:127.0.0.1:10023
            """)
        #expect(set.endOfMessageConsults(client: Fixtures.client("192.0.2.7")) == ["rate"])
        #expect(set.endOfMessageConsults(client: Fixtures.client("198.51.100.1")).isEmpty)
        #expect(RuleSet.empty.endOfMessageConsults(client: Fixtures.client()).isEmpty)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var label: String
        var rule: String
        var problems: [String]
        var testDescription: String { label }
    }

    @Test(arguments: [
        Case(label: "no service", rule: "command: RCPT\n    action: policy", problems: [
            "test.yaml:4: action 'policy' needs 'service' (inet:HOST:PORT or unix:PATH of the policy server)",
        ]),
        Case(label: "no command", rule: "action: policy\n    service: inet:127.0.0.1:1", problems: [
            "test.yaml:3: action 'policy' needs 'command' (one or more of HELO, EHLO, MAIL, RCPT, DATA, VRFY, ETRN, END-OF-MESSAGE)",
        ]),
        Case(label: "any command", rule: "command: '*'\n    action: policy\n    service: inet:127.0.0.1:1", problems: [
            "test.yaml:3: action 'policy' cannot apply to any command (\"*\"); name one or more of HELO, EHLO, MAIL, RCPT, DATA, VRFY, ETRN, END-OF-MESSAGE",
        ]),
        Case(label: "unsupported command", rule: "command: [RCPT, QUIT, AUTH]\n    action: policy\n    service: inet:127.0.0.1:1", problems: [
            "test.yaml:3: action 'policy' cannot apply to 'AUTH', 'QUIT' (policy servers are asked at HELO, EHLO, MAIL, RCPT, DATA, VRFY, ETRN, END-OF-MESSAGE)",
        ]),
        Case(label: "service without scheme", rule: "command: RCPT\n    action: policy\n    service: 127.0.0.1:10023", problems: [
            "test.yaml:5: 'service' must be inet:HOST:PORT or unix:PATH, not '127.0.0.1:10023'",
        ]),
        Case(label: "service without port", rule: "command: RCPT\n    action: policy\n    service: inet:localhost", problems: [
            "test.yaml:5: 'service' needs a port: inet:HOST:PORT, not 'inet:localhost'",
        ]),
        Case(label: "service port out of range", rule: "command: RCPT\n    action: policy\n    service: inet:127.0.0.1:70000", problems: [
            "test.yaml:5: 'service' port must be 1…65535, not '70000' in 'inet:127.0.0.1:70000'",
        ]),
        Case(label: "relative unix path", rule: "command: RCPT\n    action: policy\n    service: unix:postgrey.sock", problems: [
            "test.yaml:5: 'service' unix socket must be an absolute path (unix:/run/name.sock), not 'unix:postgrey.sock'",
        ]),
        Case(label: "bad timeout", rule: "command: RCPT\n    action: policy\n    service: inet:127.0.0.1:1\n    timeout: soon", problems: [
            "test.yaml:6: 'timeout' must be a duration from 1ms to 1h such as 10s, 500ms or 2m, not 'soon'",
        ]),
        Case(label: "zero timeout", rule: "command: RCPT\n    action: policy\n    service: inet:127.0.0.1:1\n    timeout: 0s", problems: [
            "test.yaml:6: 'timeout' must be a duration from 1ms to 1h such as 10s, 500ms or 2m, not '0s'",
        ]),
        Case(label: "bad on-error", rule: "command: RCPT\n    action: policy\n    service: inet:127.0.0.1:1\n    on-error: tempfial", problems: [
            "test.yaml:6: 'on-error' must be 'allow' or 'tempfail', not 'tempfial' (did you mean 'tempfail'?)",
        ]),
        Case(label: "service on a reject rule", rule: "command: RCPT\n    action: reject\n    service: inet:127.0.0.1:1\n    on-error: allow", problems: [
            "test.yaml:5: 'service' is only for action 'policy'",
            "test.yaml:6: 'on-error' is only for action 'policy'",
        ]),
        Case(label: "reply on a policy rule", rule: "command: RCPT\n    action: policy\n    service: inet:127.0.0.1:1\n    reply: 550 no", problems: [
            "test.yaml:6: 'reply' is only for actions 'reject' and 'disconnect'",
        ]),
    ])
    func invalidPolicyRules(_ testCase: Case) {
        let yaml = "rules:\n  - name: p\n    \(testCase.rule)\n"
        #expect(Fixtures.problems(yaml) == testCase.problems, "\(yaml)")
    }
}
