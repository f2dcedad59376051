import Foundation
import Testing

/// SPEC §3, every command rule action live: a raw client → the proxy → a real Postfix (its own
/// instance, so its log shows exactly which commands of each test reached it).
@Suite(.serialized) struct RuleActionTests {
    let postfix: PostfixInstance

    init() throws {
        postfix = try DedicatedPostfix.instance("rule-actions")
    }

    /// Postfix's command counters of the one session a test caused since `mark`.
    private func postfixStatistics(since mark: Int, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: String] {
        let statistics = PostfixInstance.commandStatistics(postfix.waitForSessions(since: mark, sourceLocation: sourceLocation))
        try #require(statistics.count == 1, "expected one postfix session, got \(statistics)", sourceLocation: sourceLocation)
        return statistics[0]
    }

    @Test func rejectAnswersLocallyAndTheCommandNeverReachesPostfix() async throws {
        let rules = """
            rules:
              - name: no-vrfy
                command: [VRFY, EXPN]
                action: reject
                reply: "502 5.5.1 VRFY and EXPN are disabled here"
            """
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: rules)
        defer { Task { await proxy.stop() } }
        let client = try RawSMTPClient(port: proxy.port)
        try client.open()
        #expect(try client.command("VRFY root") == "502 5.5.1 VRFY and EXPN are disabled here\r\n")
        #expect(try client.command("expn staff") == "502 5.5.1 VRFY and EXPN are disabled here\r\n")
        #expect(try client.command("NOOP").hasPrefix("250 "))
        #expect(try client.command("QUIT").hasPrefix("221 "))
        proxy.waitForSessionEnds(1)

        let vrfy = try #require(proxy.commandEvent("VRFY"))
        #expect(vrfy["action"] as? String == "reject")
        #expect(vrfy["rule"] as? String == "no-vrfy")
        #expect(vrfy["arg"] as? String == "root")
        let replies = proxy.replySummary()
        #expect(replies.filter { $0.verb == "VRFY" || $0.verb == "EXPN" }.allSatisfy { $0.code == 502 && $0.local == true })
        #expect(replies.first { $0.verb == "NOOP" }?.local == false)

        // Postfix counted EHLO, NOOP and QUIT, and never saw VRFY or EXPN.
        let statistics = try postfixStatistics(since: mark)
        #expect(statistics["vrfy"] == nil && statistics["expn"] == nil, "Postfix saw VRFY/EXPN: \(statistics)")
        #expect(statistics["ehlo"] == "1" && statistics["noop"] == "1" && statistics["quit"] == "1", "\(statistics)")
    }

    @Test func rewriteChangesTheSenderPostfixDelivers() async throws {
        let rules = """
            rules:
              - name: legacy-sender
                command: MAIL
                argument: '(?i)^FROM:<([^@>]+)@legacy\\.example>'
                action: rewrite
                replace: 'FROM:<$1@example.net>'
            """
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: rules)
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("rewrite")
        let client = try RawSMTPClient(port: proxy.port)
        try client.open()
        // Spelling variants (lower case, blanks) are canonicalised before the regex sees them.
        #expect(try client.command("mail from: <carol@Legacy.Example>").hasPrefix("250 "))
        #expect(try client.command("RCPT TO:<bob@example.org>").hasPrefix("250 "))
        #expect(try client.command("DATA").hasPrefix("354 "))
        try client.send(testMessage(token: token, from: "carol@legacy.example") + ".\r\n")
        #expect(try client.readReply()?.hasPrefix("250 ") == true)
        #expect(try client.command("QUIT").hasPrefix("221 "))

        let delivered = try #require(postfix.waitForMessage(containing: token))
        #expect(delivered.hasPrefix("Return-Path: <carol@example.net>\n"), "delivered: \(delivered.prefix(300))")
        proxy.waitForSessionEnds(1)
        let mail = try #require(proxy.commandEvent("MAIL"))
        #expect(mail["action"] as? String == "rewrite")
        #expect(mail["rule"] as? String == "legacy-sender")
        #expect((mail["arg"] as? String)?.contains("carol@Legacy.Example") == true, "arg is the client's text: \(mail)")
        #expect(mail["forwarded"] as? String == "MAIL FROM:<carol@example.net>")
        let message = try #require(proxy.events("message").first)
        #expect(message["mail_from"] as? String == "carol@example.net")
        postfix.waitForSessions(since: mark)
    }

    @Test func logRulesAreNonTerminalAndNamedInTheLog() async throws {
        let rules = """
            rules:
              - name: audit-everything
                command: "*"
                action: log
              - name: audit-mail
                command: MAIL
                action: log
              - name: no-vrfy
                command: VRFY
                action: reject
              - name: audit-rcpt-refusals
                reply-code: "5xx"
                command: RCPT
                action: log
            """
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: rules)
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("log")
        let client = try RawSMTPClient(port: proxy.port)
        try client.open()
        // A Postfix refusal (RCPT before MAIL) for the reply rule.
        #expect(try client.command("RCPT TO:<bob@example.org>").hasPrefix("503 "))
        #expect(try client.command("VRFY bob").hasPrefix("502 "))
        #expect(try client.command("MAIL FROM:<alice@example.net>").hasPrefix("250 "))
        #expect(try client.command("RCPT TO:<bob@example.org>").hasPrefix("250 "))
        #expect(try client.command("DATA").hasPrefix("354 "))
        try client.send(testMessage(token: token) + ".\r\n")
        #expect(try client.readReply()?.hasPrefix("250 ") == true)
        #expect(try client.command("QUIT").hasPrefix("221 "))
        #expect(postfix.waitForMessage(containing: token) != nil)
        proxy.waitForSessionEnds(1)

        let commands = proxy.commandEvents()
        // Only log rules matched: forwarded, the first matching log rule named.
        let mail = try #require(proxy.commandEvent("MAIL"))
        #expect(mail["action"] as? String == "forward")
        #expect(mail["rule"] as? String == "audit-everything")
        #expect(commands.filter { $0["verb"] as? String != "VRFY" }.allSatisfy {
            $0["action"] as? String == "forward" && $0["rule"] as? String == "audit-everything"
        })
        // Evaluation went on past the log rules: the terminal rule decided.
        let vrfy = try #require(proxy.commandEvent("VRFY"))
        #expect(vrfy["action"] as? String == "reject")
        #expect(vrfy["rule"] as? String == "no-vrfy")
        // The reply rule is named on Postfix's 5xx to RCPT, not on its 250.
        let rcptReplies = proxy.events("reply").filter { $0["for"] as? String == "RCPT" }
        #expect(rcptReplies.count == 2)
        #expect(rcptReplies.first?["code"] as? Int == 503)
        #expect(rcptReplies.first?["rules"] as? [String] == ["audit-rcpt-refusals"])
        #expect(rcptReplies.last?["rules"] == nil)

        let statistics = try postfixStatistics(since: mark)
        #expect(statistics["mail"] == "1" && statistics["data"] == "1" && statistics["vrfy"] == nil, "\(statistics)")
    }

    @Test func anAllowRuleBeforeARejectRuleWins() async throws {
        let rules = """
            rules:
              - name: vrfy-postmaster-ok
                command: VRFY
                argument: '(?i)^postmaster$'
                action: allow
              - name: no-vrfy
                command: VRFY
                action: reject
                reply: "502 5.5.1 VRFY is disabled"
            """
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: rules)
        defer { Task { await proxy.stop() } }
        let client = try RawSMTPClient(port: proxy.port)
        try client.open()
        let allowed = try client.command("VRFY postmaster")
        #expect(!allowed.hasPrefix("502 5.5.1 VRFY is disabled"), "allowed VRFY answered by: \(allowed)")
        #expect(try client.command("VRFY root") == "502 5.5.1 VRFY is disabled\r\n")
        #expect(try client.command("QUIT").hasPrefix("221 "))
        proxy.waitForSessionEnds(1)

        let postmaster = try #require(proxy.commandEvent("VRFY", argument: "postmaster"))
        #expect(postmaster["action"] as? String == "forward")
        #expect(postmaster["rule"] as? String == "vrfy-postmaster-ok")
        let root = try #require(proxy.commandEvent("VRFY", argument: "root"))
        #expect(root["action"] as? String == "reject")
        #expect(root["rule"] as? String == "no-vrfy")
        #expect(proxy.replySummary().filter { $0.verb == "VRFY" }.map { $0.local } == [false, true])

        // Exactly one VRFY reached Postfix ("vrfy=1", or "vrfy=0/1" when Postfix refused it).
        let statistics = try postfixStatistics(since: mark)
        let vrfy = try #require(statistics["vrfy"], "Postfix never saw the allowed VRFY: \(statistics)")
        #expect(vrfy == "1" || vrfy == "0/1", "Postfix saw more than one VRFY: \(statistics)")
    }

    @Test func disconnectAnswers421AndClosesBothLegs() async throws {
        let rules = """
            rules:
              - name: elsewhere
                client: [203.0.113.0/24]
                command: "*"
                action: disconnect
              - name: no-help-here
                client: [127.0.0.0/8]
                command: HELP
                action: disconnect
            """
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: rules)
        defer { Task { await proxy.stop() } }
        let client = try RawSMTPClient(port: proxy.port)
        try client.open()
        // The other network's rule does not apply to 127.0.0.1.
        #expect(try client.command("NOOP").hasPrefix("250 "))
        // Pipelined behind HELP: never answered, never forwarded.
        try client.send("HELP\r\nNOOP\r\nMAIL FROM:<alice@example.net>\r\n")
        let reply = try #require(try client.readReply())
        #expect(reply.hasPrefix("421 4.7.0"), "\(reply)")
        #expect(try client.readToEnd() == "", "the proxy closed the client after its 421")
        let ends = proxy.waitForSessionEnds(1)

        let help = try #require(proxy.commandEvent("HELP"))
        #expect(help["action"] as? String == "disconnect")
        #expect(help["rule"] as? String == "no-help-here")
        #expect(proxy.commandEvent("MAIL") == nil)
        let end = try #require(ends.first { $0["event"] as? String == "session-end" })
        #expect(end["reason"] as? String == "disconnect")
        // The upstream leg was closed too: Postfix lost the connection after NOOP, without QUIT.
        let log = postfix.waitForSessions(since: mark)
        #expect(log.contains("lost connection after NOOP"), "\(log)")
        let statistics = try #require(PostfixInstance.commandStatistics(log).first)
        #expect(statistics["help"] == nil && statistics["mail"] == nil && statistics["quit"] == nil, "\(statistics)")
        #expect(statistics["noop"] == "1")
    }

    @Test func bannerReplacesTheGreetingText() async throws {
        let rules = """
            settings:
              banner: "mx.example.org ESMTP ready"
            """
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: rules)
        defer { Task { await proxy.stop() } }
        let client = try RawSMTPClient(port: proxy.port)
        let (greeting, ehlo) = try client.open()
        #expect(greeting == "220 mx.example.org ESMTP ready\r\n")
        #expect(ehlo.hasPrefix("250-upstream.test"), "the session goes on with Postfix: \(ehlo)")
        #expect(try client.command("QUIT").hasPrefix("221 "))
        proxy.waitForSessionEnds(1)
        let greetingEvent = try #require(proxy.events("reply").first)
        #expect(greetingEvent["for"] as? String == "greeting")
        #expect(greetingEvent["code"] as? Int == 220)

        // Without the setting, Postfix's own banner passes untouched.
        let plain = try await ProxyHarness(upstreamPort: postfix.port)
        defer { Task { await plain.stop() } }
        let other = try RawSMTPClient(port: plain.port)
        #expect(try other.readReply() == "220 upstream.test ESMTP\r\n")
        #expect(try other.command("QUIT").hasPrefix("221 "))
        postfix.waitForSessions(since: mark, count: 2)
    }
}
