import Foundation
import Testing

/// SPEC §4 PIPELINING (RFC 2920): a raw client sends a whole command group in one write; the
/// replies come back in command order, the proxy's own refusals in their place among Postfix's.
@Suite(.serialized) struct PipeliningTests {
    let postfix: PostfixInstance

    init() throws {
        postfix = try DedicatedPostfix.instance("pipelining")
    }

    static let rules = """
        rules:
          - name: no-blocked-recipients
            command: RCPT
            argument: '(?i)^TO:<blocked'
            action: reject
            reply: "550 5.7.1 Recipient refused by policy"
          - name: no-vrfy
            command: VRFY
            action: reject
            reply: "502 5.5.1 VRFY is disabled"
        """

    @Test func repliesArriveInCommandOrderWithLocalOnesInTheirPlace() async throws {
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: Self.rules)
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("pipe")
        let client = try RawSMTPClient(port: proxy.port)
        let (_, ehlo) = try client.open()
        #expect(ehloKeywords(ehlo).contains("PIPELINING"))
        // One write: local refusals first, in the middle, and last before DATA; one refusal of
        // Postfix's own (a malformed address) among them.
        let group = [
            "VRFY first",
            "MAIL FROM:<alice@example.net>",
            "RCPT TO:<ok1-\(token)@example.org>",
            "RCPT TO:<blocked1@example.org>",
            "VRFY middle",
            "RCPT TO:<ok2-\(token)@example.org>",
            "RCPT TO:<bad address@@example.org>",
            "RCPT TO:<ok3-\(token)@example.org>",
            "RCPT TO:<blocked2@example.org>",
            "DATA",
        ]
        try client.send(group.map { $0 + "\r\n" }.joined())
        let replies = try client.readReplies(group.count)
        let codes = replies.map { String($0.prefix(3)) }
        #expect(codes == ["502", "250", "250", "550", "502", "250", "501", "250", "550", "354"], "\(replies)")
        #expect(replies[3] == "550 5.7.1 Recipient refused by policy\r\n")
        #expect(replies[4] == "502 5.5.1 VRFY is disabled\r\n")
        // The message and QUIT in one write too.
        try client.send(testMessage(token: token) + ".\r\nQUIT\r\n")
        let last = try client.readReplies(2)
        #expect(last[0].hasPrefix("250 "), "\(last)")
        #expect(last[1].hasPrefix("221 "), "\(last)")
        #expect(try client.readToEnd() == "")

        postfix.waitForMessages(containing: token, count: 3)
        proxy.waitForSessionEnds(1)
        let replyEvents = proxy.replySummary()
        #expect(replyEvents.map { $0.verb } == ["greeting", "EHLO", "VRFY", "MAIL", "RCPT", "RCPT", "VRFY", "RCPT", "RCPT", "RCPT", "RCPT", "DATA", ".", "QUIT"])
        #expect(replyEvents.map { $0.local } == [false, false, true, false, false, true, true, false, false, false, true, false, false, false])
        let message = try #require(proxy.events("message").first)
        #expect(message["rcpt_to"] as? [String] == (1...3).map { "ok\($0)-\(token)@example.org" })
        #expect(message["result"] as? Int == 250)

        let statistics = try #require(PostfixInstance.commandStatistics(postfix.waitForSessions(since: mark)).first)
        #expect(statistics["vrfy"] == nil && statistics["rcpt"] == "3/4", "\(statistics)")
        #expect(postfix.messages(containing: token).count == 3)
    }

    @Test func wholeTransactionsInOneWriteAreHeldUntilEachReplyAndDelivered() async throws {
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: Self.rules)
        defer { Task { await proxy.stop() } }
        let first = uniqueToken("pipe-a")
        let second = uniqueToken("pipe-b")
        let client = try RawSMTPClient(port: proxy.port)
        try client.open()
        // Beyond RFC 2920 (nothing may follow DATA before its 354), but clients do it: the proxy
        // holds the bytes after DATA until Postfix's 354 tells it they are message content.
        let transaction = { (token: String) in
            "MAIL FROM:<alice@example.net>\r\nRCPT TO:<blocked@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n"
                + testMessage(token: token, body: "MAIL FROM:<not-a-command@example.net>\r\n.RCPT TO:<stuffed@example.org>\r\n") + ".\r\n"
        }
        try client.send(transaction(first) + transaction(second) + "QUIT\r\n")
        let codes = try client.readReplies(11).map { String($0.prefix(3)) }
        #expect(codes == ["250", "550", "250", "354", "250", "250", "550", "250", "354", "250", "221"])
        for token in [first, second] {
            let delivered = try #require(postfix.waitForMessage(containing: token))
            #expect(delivered.hasSuffix("\nMAIL FROM:<not-a-command@example.net>\nRCPT TO:<stuffed@example.org>\n"), "\(delivered)")
        }
        let events = proxy.waitForSessionEnds(1)
        #expect(events.filter { $0["event"] as? String == "message" }.count == 2)
        let statistics = try #require(PostfixInstance.commandStatistics(postfix.waitForSessions(since: mark)).first)
        #expect(statistics["mail"] == "2" && statistics["rcpt"] == "2" && statistics["data"] == "2", "\(statistics)")
    }
}
