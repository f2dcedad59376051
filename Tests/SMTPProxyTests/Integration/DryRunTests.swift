import Foundation
import Testing

/// SPEC §3 `proxy --dry-run`: every terminal action becomes a logged `would-…` verdict and the
/// session goes on as if no rule had matched — everything reaches Postfix and is delivered.
@Suite(.serialized) struct DryRunTests {
    let postfix: PostfixInstance

    init() throws {
        postfix = try DedicatedPostfix.instance("dry-run")
    }

    @Test func everyTerminalActionIsOnlyLoggedAndEverythingIsForwarded() async throws {
        let rules = """
            settings:
              limits:
                max-recipients: 1
                max-line-length: 200
              bare-newline: reject
            rules:
              - name: no-chunking
                ehlo-keyword: CHUNKING
                action: strip
              - name: no-vrfy
                command: VRFY
                action: reject
              - name: legacy-sender
                command: MAIL
                argument: '(?i)^FROM:<([^@>]+)@legacy\\.example>'
                action: rewrite
                replace: 'FROM:<$1@example.net>'
              - name: noop-disconnect
                command: NOOP
                argument: '^disconnect-me$'
                action: disconnect
            """
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: rules, dryRun: true)
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("dryrun")
        let client = try RawSMTPClient(port: proxy.port)
        let (_, ehlo) = try client.open()
        #expect(ehloKeywords(ehlo).contains("CHUNKING"), "nothing is stripped in a dry run: \(ehlo)")
        let vrfy = try client.command("VRFY bob@example.org")
        #expect(!vrfy.hasPrefix("502 5.5.1 Error"), "Postfix answers VRFY: \(vrfy)")
        #expect(try client.command("NOOP disconnect-me").hasPrefix("250 "), "the session goes on")
        #expect(try client.command("NOOP " + String(repeating: "x", count: 250)).hasPrefix("250 "))
        #expect(try client.command("MAIL FROM:<dave@legacy.example>").hasPrefix("250 "))
        #expect(try client.command("RCPT TO:<one-\(token)@example.org>").hasPrefix("250 "))
        #expect(try client.command("RCPT TO:<two-\(token)@example.org>").hasPrefix("250 "), "beyond max-recipients, forwarded")
        #expect(try client.command("DATA").hasPrefix("354 "))
        // A bare LF: `reject` is previewed, the message is normalized and delivered.
        try client.send(testMessage(token: token, from: "dave@legacy.example", body: "bare\nline feed\r\n") + ".\r\n")
        #expect(try client.readReply()?.hasPrefix("250 ") == true)
        #expect(try client.command("QUIT").hasPrefix("221 "))

        let delivered = postfix.waitForMessages(containing: token, count: 2)
        #expect(delivered.allSatisfy { $0.hasPrefix("Return-Path: <dave@legacy.example>\n") }, "the sender was not rewritten")
        #expect(delivered.allSatisfy { $0.contains("\nbare\nline feed\n") })
        proxy.waitForSessionEnds(1)

        func verdict(_ verb: String, _ argument: String? = nil) -> (String?, String?) {
            let event = proxy.commandEvent(verb, argument: argument)
            return (event?["action"] as? String, event?["rule"] as? String)
        }
        #expect(verdict("VRFY") == ("would-reject", "no-vrfy"))
        #expect(verdict("NOOP", "disconnect-me") == ("would-disconnect", "noop-disconnect"))
        #expect(verdict("NOOP", "xxxx") == ("would-reject", "limits.max-line-length"))
        #expect(verdict("MAIL") == ("would-rewrite", "legacy-sender"))
        #expect(verdict("RCPT", "one-") == ("forward", nil))
        #expect(verdict("RCPT", "two-") == ("would-reject", "limits.max-recipients"))
        #expect(proxy.commandEvent("MAIL")?["forwarded"] as? String == nil)
        let ehloReply = try #require(proxy.events("reply").first { $0["for"] as? String == "EHLO" })
        let stripped = (ehloReply["stripped"] as? [[String: Any]]) ?? []
        #expect(stripped.first?["keyword"] as? String == "CHUNKING")
        #expect(stripped.first?["action"] as? String == "would-strip")
        #expect(proxy.anomalyKinds().contains("bare-lf"))
        #expect(proxy.events("reply").allSatisfy { $0["local"] as? Bool == false }, "the proxy answered something itself")
        let end = try #require(proxy.events("session-end").first)
        #expect(end["reason"] as? String == "quit")

        let statistics = try #require(PostfixInstance.commandStatistics(postfix.waitForSessions(since: mark)).first)
        #expect(statistics["vrfy"] != nil && statistics["noop"] == "2" && statistics["rcpt"] == "2" && statistics["data"] == "1", "\(statistics)")
    }
}
