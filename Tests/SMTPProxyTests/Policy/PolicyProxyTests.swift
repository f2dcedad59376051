import Foundation
import SMTPCore
import SMTPProxy
import SMTPServices
import Testing

/// Policy rules through the live proxy (SPEC §11), in front of a real Postfix: the request as
/// sent next to Postfix's own for the same session, postgrey's greylisting with its PREPEND in
/// the delivered file, a postfwd rate limit shared by two proxies, and `on-error` both ways.
@Suite(.serialized) struct PolicyProxyTests {
    /// The proxy with the rule set's consultants made as the CLI makes them (each proxy its own
    /// policy client, as separate processes would have).
    static func proxy(upstream: Int, rules: String) async throws -> ProxyHarness {
        try await ProxyHarness(upstreamPort: upstream, rules: rules)
    }

    /// One message, lock-step (no pipelining); returns the replies from EHLO on.
    static func send(port: Int, token: String, extra: [String] = []) throws -> [String] {
        let smtp = try RawSMTPClient(port: port)
        var replies = [try smtp.open().ehlo]
        for line in ["MAIL FROM:<alice@example.net> SIZE=400", "RCPT TO:<bob@example.org>", "DATA"] {
            let reply = try smtp.command(line)
            replies.append(reply)
            guard reply.hasPrefix("2") || reply.hasPrefix("354") else {
                replies.append(try smtp.command("QUIT"))
                return replies
            }
        }
        replies.append(try smtp.command(testMessage(token: token) + "."))
        for line in extra { replies.append(try smtp.command(line)) }
        replies.append(try smtp.command("QUIT"))
        return replies
    }

    /// The proxy's request next to Postfix's for the same session, at every stage. The proxy's
    /// client is the proxy's own connection for Postfix, so `client_port` differs; `queue_id`
    /// (Postfix's queue file) and the value of `instance` are Postfix's own.
    @Test func requestAsSentMatchesPostfixsForTheSameSession() async throws {
        let ours = try FakePolicyServer(.answer { _ in "DUNNO" })
        let theirs = try FakePolicyServer(.answer { _ in "DUNNO" })
        defer { ours.stop(); theirs.stop() }
        let postfix = try PostfixInstance(extraMainCF: PolicyTestSupport.postfixAskingAtEveryStage(port: theirs.port))
        defer { postfix.stop() }
        let harness = try await Self.proxy(upstream: postfix.port, rules: """
            rules:
              - name: everything
                command: [EHLO, MAIL, RCPT, DATA, END-OF-MESSAGE, VRFY, ETRN]
                action: policy
                service: \(ours.service)
            """)
        let token = uniqueToken("conformance")
        let port = harness.port
        let replies = try await onThread { try Self.send(port: port, token: token, extra: ["VRFY bob@example.org", "ETRN example.org"]) }
        await harness.stop()
        #expect(replies[4].hasPrefix("250 "), "\(replies)")
        let sent = ours.requests
        let postfixs = theirs.requests
        let states = { (requests: [[(String, String)]]) in requests.map { $0.first { $0.0 == "protocol_state" }?.1 ?? "?" } }
        #expect(states(sent) == ["EHLO", "MAIL", "RCPT", "DATA", "END-OF-MESSAGE", "VRFY", "ETRN"])
        #expect(states(sent) == states(postfixs))
        var differences: [String] = []
        for (mine, postfix) in zip(sent, postfixs) {
            let state = mine.first { $0.0 == "protocol_state" }?.1 ?? "?"
            #expect(mine.map(\.0) == postfix.map(\.0), "attribute names and order at \(state)")
            for ((name, value), (_, expected)) in zip(mine, postfix) {
                switch name {
                case "client_port", "queue_id": continue
                case "instance": if value.isEmpty != expected.isEmpty { differences.append("\(state) instance '\(value)' vs '\(expected)'") }
                default: if value != expected { differences.append("\(state) \(name)='\(value)', Postfix '\(expected)'") }
                }
            }
        }
        #expect(differences.isEmpty, "\(differences)")
        print("request as sent (RCPT):\n" + sent[2].map { "\($0.0)=\($0.1)" }.joined(separator: "\n") + "\nanswer: action=DUNNO")
    }

    /// A client that pipelines MAIL and RCPT (RFC 2920): the RCPT request still names the
    /// sender, and the replies come back in order.
    @Test func pipelinedRcptRequestNamesTheSender() async throws {
        let recorder = try FakePolicyServer(.answer { _ in "DUNNO" })
        defer { recorder.stop() }
        let postfix = try PostfixInstance()
        defer { postfix.stop() }
        let harness = try await Self.proxy(upstream: postfix.port, rules: """
            rules:
              - {name: pol, command: RCPT, action: policy, service: "\(recorder.service)"}
            """)
        let port = harness.port
        let replies = try await onThread { () throws -> [String] in
            let smtp = try RawSMTPClient(port: port)
            try smtp.open()
            try smtp.send("MAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\nRSET\r\n")
            return try smtp.readReplies(3)
        }
        await harness.stop()
        #expect(replies.map { String($0.prefix(3)) } == ["250", "250", "250"], "\(replies)")
        let sender = recorder.requests.first?.first { $0.0 == "sender" }?.1
        #expect(sender == "alice@example.net")
    }

    /// postgrey in front of Postfix: the first attempt gets postgrey's 450 and nothing is
    /// delivered; once the delay has passed the message is delivered with postgrey's
    /// `X-Greylist:` header on top of the content, and the `command` event names the rule and
    /// carries the answer.
    @Test func postgreyGreylistsThenDeliversWithItsHeader() async throws {
        let postgrey = try PolicyServices.Postgrey(delay: 2)
        defer { postgrey.stop() }
        let postfix = try PostfixInstance()
        defer { postfix.stop() }
        let harness = try await Self.proxy(upstream: postfix.port, rules: """
            rules:
              - {name: greylist, command: RCPT, action: policy, service: "\(postgrey.service)"}
            """)
        let token = uniqueToken("greylist")
        let port = harness.port
        let first = try await onThread { try Self.send(port: port, token: token) }
        #expect(first[2].hasPrefix("450 4.2.0 Greylisted"), "\(first)")
        var delivered: [String] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            delivered = try await onThread { try Self.send(port: port, token: token) }
            if delivered[2].hasPrefix("250") { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(delivered.count == 6 && delivered[4].hasPrefix("250 "), "\(delivered)")
        let message = try #require(postfix.waitForMessage(containing: token))
        #expect(postfix.messages(containing: token).count == 1, "the greylisted attempts reached nobody")
        let lines = message.components(separatedBy: "\n")
        let greylist = try #require(lines.firstIndex { $0.hasPrefix("X-Greylist: delayed ") }, "\(message)")
        let from = try #require(lines.firstIndex { $0.hasPrefix("From: alice@example.net") })
        #expect(greylist < from, "the header is on top of the forwarded content")
        let rcpts = harness.commandEvents().filter { $0["verb"] as? String == "RCPT" }
        #expect((rcpts.first?["policy"] as? String)?.hasPrefix("DEFER_IF_PERMIT 4.2.0 Greylisted") == true, "\(rcpts.first ?? [:])")
        #expect(rcpts.first?["rule"] as? String == "greylist")
        #expect((rcpts.last?["policy"] as? String)?.hasPrefix("PREPEND X-Greylist:") == true, "\(rcpts.last ?? [:])")
        await harness.stop()
    }

    /// Two proxies ask one postfwd with a limit of 3 messages a minute per client: the fourth
    /// message is refused whichever proxy carries it.
    @Test func postfwdLimitIsSharedByTwoProxies() async throws {
        let postfwd = try PolicyServices.Postfwd(rules: RealPolicyServerTests.rateRules)
        defer { postfwd.stop() }
        let postfix = try PostfixInstance()
        defer { postfix.stop() }
        let rules = """
            rules:
              - {name: rate, command: RCPT, action: policy, service: "\(postfwd.service)"}
            """
        let a = try await Self.proxy(upstream: postfix.port, rules: rules)
        let b = try await Self.proxy(upstream: postfix.port, rules: rules)
        let token = uniqueToken("rate")
        var timeline: [String] = []
        for (index, harness) in [a, b, a, b, a].enumerated() {
            let port = harness.port
            let replies = try await onThread { try Self.send(port: port, token: token) }
            timeline.append("message \(index + 1) via \(harness === a ? "A" : "B"): RCPT \(replies[2].trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        await a.stop()
        await b.stop()
        print("two proxies, one postfwd:\n" + timeline.joined(separator: "\n"))
        #expect(timeline.prefix(3).allSatisfy { $0.contains("RCPT 250") }, "\(timeline)")
        #expect(timeline.suffix(2).allSatisfy { $0.contains("RCPT 450 4.7.1 Rate limit: 3 messages a minute per client") }, "\(timeline)")
        #expect(postfix.waitForDeliveries(3).filter { $0.contains(token) }.count == 3)
    }

    /// A policy server that does not answer in time: `tempfail` refuses the recipient with
    /// 451 4.3.5 (nothing delivered), `allow` lets the message through; both log the anomaly.
    @Test(arguments: ["tempfail", "allow"])
    func silentServerGivesOnError(_ onError: String) async throws {
        let server = try FakePolicyServer(.silent)
        defer { server.stop() }
        let postfix = try PostfixInstance()
        defer { postfix.stop() }
        let harness = try await Self.proxy(upstream: postfix.port, rules: """
            rules:
              - {name: slow, command: RCPT, action: policy, service: "\(server.service)", timeout: 300ms, on-error: \(onError)}
            """)
        let token = uniqueToken("onerror")
        let port = harness.port
        let replies = try await onThread { try Self.send(port: port, token: token) }
        if onError == "tempfail" {
            #expect(replies[2].hasPrefix("451 4.3.5 Server configuration problem"), "\(replies)")
            #expect(postfix.deliveredCount() == 0)
        } else {
            #expect(replies[2].hasPrefix("250") && replies[4].hasPrefix("250"), "\(replies)")
            #expect(postfix.waitForMessage(containing: token) != nil)
        }
        harness.waitForSessionEnds(1)
        #expect(harness.anomalyKinds().contains("policy-error"), "\(harness.anomalyKinds())")
        let rcpt = harness.commandEvent("RCPT")
        #expect(rcpt?["rule"] as? String == "slow" && rcpt?["policy"] as? String == "error: timeout", "\(rcpt ?? [:])")
        await harness.stop()
    }
}
