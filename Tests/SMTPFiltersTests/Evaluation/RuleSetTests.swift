import SMTPCore
import SMTPFilters
import Testing

/// `RuleSet` as the engine sees it: verdicts for commands, EHLO keywords and replies.
@Suite struct RuleSetTests {
    struct Verdict: CustomTestStringConvertible, Sendable {
        var verb: String
        var argument: String = ""
        var client: String = "192.0.2.1"
        var action: PolicyDecision.Action
        var rule: String?
        var loggedBy: [String] = []
        var testDescription: String { "\(verb) \(argument) from \(client)" }
    }

    static let orderRules = """
        rules:
          - name: log-all
            action: log
          - name: log-vrfy
            command: vrfy
            action: log
          - name: refuse-vrfy
            command: VRFY
            action: reject
          - name: allow-vrfy
            command: VRFY
            action: allow
          - name: log-after
            command: "*"
            action: log
          - name: refuse-expn
            command: EXPN
            argument: '^staff$'
            action: reject
            reply: "550 5.7.1 no lists"
          - name: any-verb
            command: "*"
            argument: '^please-disconnect$'
            action: disconnect
        """

    @Test(arguments: [
        // The first terminal rule wins; log rules before it accumulate; later ones are not consulted.
        Verdict(verb: "VRFY", argument: "root", action: .reject(nil), rule: "refuse-vrfy",
                loggedBy: ["log-all", "log-vrfy"]),
        // Verbs are case-insensitive.
        Verdict(verb: "vrfy", argument: "root", action: .reject(nil), rule: "refuse-vrfy",
                loggedBy: ["log-all", "log-vrfy"]),
        // Only log rules matched: forward, the rule is the first log rule.
        Verdict(verb: "MAIL", argument: "FROM:<a@b>", action: .forward, rule: "log-all",
                loggedBy: ["log-all", "log-after"]),
        // command and argument combine with AND.
        Verdict(verb: "EXPN", argument: "staff", action: .reject(SMTPReply(code: 550, "5.7.1 no lists")),
                rule: "refuse-expn", loggedBy: ["log-all", "log-after"]),
        Verdict(verb: "EXPN", argument: "staff-all", action: .forward, rule: "log-all",
                loggedBy: ["log-all", "log-after"]),
        // "*" matches any verb, also unknown ones.
        Verdict(verb: "XFOO", argument: "please-disconnect", action: .disconnect(nil), rule: "any-verb",
                loggedBy: ["log-all", "log-after"]),
    ])
    func evaluationOrder(_ verdict: Verdict) throws {
        try expect(verdict, from: Self.orderRules)
    }

    @Test func noRuleMatchedForwardsWithoutRule() throws {
        let rules = try Fixtures.ruleSet("rules:\n  - {name: x, command: VRFY, action: reject}\n")
        #expect(rules.decide(Fixtures.command("NOOP"), client: Fixtures.client()) == .forward)
        #expect(RuleSet.empty.decide(Fixtures.command("VRFY"), client: Fixtures.client()) == .forward)
    }

    static let clientRules = """
        rules:
          - name: blocked-v4
            client: [203.0.113.0/24]
            action: disconnect
          - name: blocked-v6
            client: 2001:db8:bad::/48
            action: disconnect
            reply: "421 4.7.0 go away"
          - name: trusted
            client: [192.0.2.10, "2001:db8::10"]
            command: VRFY
            action: allow
          - name: no-vrfy
            command: VRFY
            action: reject
        """

    @Test(arguments: [
        Verdict(verb: "EHLO", argument: "x", client: "203.0.113.77", action: .disconnect(nil), rule: "blocked-v4"),
        Verdict(verb: "EHLO", argument: "x", client: "::ffff:203.0.113.77", action: .disconnect(nil), rule: "blocked-v4"),
        Verdict(verb: "EHLO", argument: "x", client: "203.0.114.1", action: .forward),
        Verdict(verb: "EHLO", argument: "x", client: "2001:db8:bad:1::5",
                action: .disconnect(SMTPReply(code: 421, "4.7.0 go away")), rule: "blocked-v6"),
        Verdict(verb: "EHLO", argument: "x", client: "2001:db8:bae::5", action: .forward),
        Verdict(verb: "VRFY", argument: "u", client: "192.0.2.10", action: .allow, rule: "trusted"),
        Verdict(verb: "VRFY", argument: "u", client: "::ffff:192.0.2.10", action: .allow, rule: "trusted"),
        Verdict(verb: "VRFY", argument: "u", client: "2001:db8::10", action: .allow, rule: "trusted"),
        Verdict(verb: "VRFY", argument: "u", client: "192.0.2.11", action: .reject(nil), rule: "no-vrfy"),
        // A client that is not a numeric address matches no rule with `client:`.
        Verdict(verb: "VRFY", argument: "u", client: "mx.example.org", action: .reject(nil), rule: "no-vrfy"),
        Verdict(verb: "EHLO", argument: "x", client: "mx.example.org", action: .forward),
    ])
    func clientBlocks(_ verdict: Verdict) throws {
        try expect(verdict, from: Self.clientRules)
    }

    static let rewriteRules = """
        rules:
          - name: legacy-sender
            command: MAIL
            argument: '(?i)^FROM:<([^@>]+)@legacy\\.example>'
            action: rewrite
            replace: 'FROM:<$1@example.org>'
          - name: tag-recipient
            command: RCPT
            argument: '^TO:<(?<user>[^@>]+)@(?<domain>[^>]+)>'
            action: rewrite
            replace: 'TO:<${user}+$$tag@${domain}>'
          - name: other-senders
            command: MAIL
            action: allow
        """

    @Test(arguments: [
        Verdict(verb: "MAIL", argument: "FROM:<bob@LEGACY.example> SIZE=10",
                action: .rewrite(argument: "FROM:<bob@example.org> SIZE=10"), rule: "legacy-sender"),
        // A rewrite rule whose regex does not match does not match: the next rule decides.
        Verdict(verb: "MAIL", argument: "FROM:<bob@example.net>", action: .allow, rule: "other-senders"),
        Verdict(verb: "RCPT", argument: "TO:<ann@example.org> NOTIFY=NEVER",
                action: .rewrite(argument: "TO:<ann+$tag@example.org> NOTIFY=NEVER"), rule: "tag-recipient"),
        Verdict(verb: "RCPT", argument: "TO:<>", action: .forward),
    ])
    func rewrites(_ verdict: Verdict) throws {
        try expect(verdict, from: Self.rewriteRules)
    }

    static let keywordAndReplyRules = """
        rules:
          - name: audit-chunking
            ehlo-keyword: CHUNKING
            action: log
          - name: strip-chunking-for-legacy
            ehlo-keyword: [chunking]
            client: 198.51.100.0/24
            action: strip
          - name: strip-exchange
            ehlo-keyword: [X-EXCH50, XEXCH50, CHUNKING]
            action: strip
          - name: failures
            reply-code: 5xx
            action: log
          - name: auth-failures
            reply-code: [535, 454]
            command: AUTH
            action: log
          - name: greeting-refusals
            reply-code: "554"
            client: 203.0.113.0/24
            action: log
          - name: vrfy
            command: VRFY
            action: reject
        """

    @Test func stripLookup() throws {
        let rules = try Fixtures.ruleSet(Self.keywordAndReplyRules)
        let client = Fixtures.client("192.0.2.1")
        let legacy = Fixtures.client("198.51.100.7")
        #expect(rules.stripRule(forKeyword: "X-EXCH50", client: client) == "strip-exchange")
        #expect(rules.stripRule(forKeyword: "xexch50", client: client) == "strip-exchange")
        #expect(rules.stripRule(forKeyword: "CHUNKING", client: client) == "strip-exchange")
        #expect(rules.stripRule(forKeyword: "CHUNKING", client: legacy) == "strip-chunking-for-legacy")
        #expect(rules.stripRule(forKeyword: "PIPELINING", client: client) == nil)
        #expect(rules.keywordLogRules(forKeyword: "CHUNKING", client: client) == ["audit-chunking"])
        #expect(rules.keywordLogRules(forKeyword: "SIZE", client: client) == [])
    }

    @Test func replyRules() throws {
        let rules = try Fixtures.ruleSet(Self.keywordAndReplyRules)
        let client = Fixtures.client("192.0.2.1")
        let listed = Fixtures.client("::ffff:203.0.113.3")
        #expect(rules.replyRules(code: 535, verb: .auth, client: client) == ["failures", "auth-failures"])
        #expect(rules.replyRules(code: 454, verb: SMTPVerb("auth"), client: client) == ["auth-failures"])
        #expect(rules.replyRules(code: 535, verb: .mail, client: client) == ["failures"])
        #expect(rules.replyRules(code: 454, verb: nil, client: client) == [])
        #expect(rules.replyRules(code: 250, verb: .mail, client: client) == [])
        #expect(rules.replyRules(code: 554, verb: nil, client: listed) == ["failures", "greeting-refusals"])
        #expect(rules.replyRules(code: 554, verb: nil, client: client) == ["failures"])
    }

    @Test func keywordAndReplyRulesAreNotCommandRules() throws {
        let rules = try Fixtures.ruleSet(Self.keywordAndReplyRules)
        #expect(rules.decide(Fixtures.command("AUTH", "PLAIN"), client: Fixtures.client()) == .forward)
        #expect(rules.decide(Fixtures.command("BDAT", "10 LAST"), client: Fixtures.client()) == .forward)
        #expect(rules.decide(Fixtures.command("VRFY", "x"), client: Fixtures.client())
            == PolicyDecision(action: .reject(nil), rule: "vrfy"))
    }

    @Test func isUsableAcrossTasks() async throws {
        let rules = try Fixtures.ruleSet(Self.rewriteRules)
        let results = await withTaskGroup(of: PolicyDecision.self) { group in
            for index in 0..<64 {
                group.addTask {
                    rules.decide(Fixtures.command("MAIL", "FROM:<u\(index)@legacy.example>"), client: Fixtures.client())
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 64)
        #expect(results.allSatisfy { $0.rule == "legacy-sender" })
    }

    private func expect(_ verdict: Verdict, from yaml: String, sourceLocation: SourceLocation = #_sourceLocation)
        throws
    {
        let rules = try Fixtures.ruleSet(yaml)
        let decision = rules.decide(Fixtures.command(verdict.verb, verdict.argument),
                                    client: Fixtures.client(verdict.client))
        #expect(decision == PolicyDecision(action: verdict.action, rule: verdict.rule, loggedBy: verdict.loggedBy),
                sourceLocation: sourceLocation)
    }
}
