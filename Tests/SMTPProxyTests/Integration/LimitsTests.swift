import Foundation
import Testing

/// SPEC §3 `settings.limits`, live into a real Postfix (its own instance: the tests read its log to
/// show what reached it): `max-recipients`, `max-message-size` (declared and actual) and
/// `max-line-length`.
@Suite(.serialized) struct LimitsTests {
    let postfix: PostfixInstance

    init() throws {
        postfix = try DedicatedPostfix.instance("limits")
    }

    @Test func recipientsBeyondTheLimitGet452AndTheMessageGoesToTheOthers() async throws {
        let rules = """
            settings:
              limits:
                max-recipients: 3
            """
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: rules)
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("rcpt")
        let recipients = (1...5).map { "r\($0)-\(token)@example.org" }
        let client = try RawSMTPClient(port: proxy.port)
        try client.open()
        try client.send("MAIL FROM:<alice@example.net>\r\n" + recipients.map { "RCPT TO:<\($0)>\r\n" }.joined() + "DATA\r\n")
        let replies = try client.readReplies(7)
        #expect(replies[0].hasPrefix("250 "))
        #expect(replies[1...3].allSatisfy { $0.hasPrefix("250 ") }, "\(replies)")
        #expect(replies[4...5].allSatisfy { $0.hasPrefix("452 4.5.3") }, "\(replies)")
        #expect(replies[6].hasPrefix("354 "), "\(replies)")
        try client.send(testMessage(token: token) + ".\r\n")
        let queued = try #require(try client.readReply())
        #expect(queued.hasPrefix("250 "))
        #expect(try client.command("QUIT").hasPrefix("221 "))

        // One copy per accepted recipient (the Maildir is shared by all of them).
        let delivered = postfix.waitForMessages(containing: token, count: 3)
        #expect(delivered.count == 3)
        let queueID = try #require(queued.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        #expect(postfix.waitForLogLine(since: mark, containing: ["\(queueID): from=<alice@example.net>", "nrcpt=3"]) != nil)
        #expect(!postfix.log(since: mark).contains("r4-\(token)"), "Postfix saw a recipient beyond the limit")
        proxy.waitForSessionEnds(1)
        let rcpts = proxy.commandEvents().filter { $0["verb"] as? String == "RCPT" }
        #expect(rcpts.map { $0["action"] as? String } == ["forward", "forward", "forward", "reject", "reject"])
        #expect(rcpts.last?["rule"] as? String == "limits.max-recipients")
        let message = try #require(proxy.events("message").first)
        #expect(message["rcpt_to"] as? [String] == Array(recipients.prefix(3)))
        let statistics = try #require(PostfixInstance.commandStatistics(postfix.waitForSessions(since: mark)).first)
        #expect(statistics["rcpt"] == "3", "\(statistics)")
        #expect(postfix.messages(containing: token).count == 3)
    }

    @Test func aDeclaredSizeOverTheLimitIsRefusedAndSIZEIsLowered() async throws {
        let rules = """
            settings:
              limits:
                max-message-size: 10_000
            """
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: rules)
        defer { Task { await proxy.stop() } }
        let client = try RawSMTPClient(port: proxy.port)
        let (_, ehlo) = try client.open()
        #expect(ehlo.contains("250-SIZE 10000\r\n"), "Postfix's 104857600 lowered to the limit: \(ehlo)")
        #expect(try client.command("MAIL FROM:<alice@example.net> SIZE=20000").hasPrefix("552 5.3.4"))
        #expect(try client.command("MAIL FROM:<alice@example.net> SIZE=900").hasPrefix("250 "))
        #expect(try client.command("QUIT").hasPrefix("221 "))
        proxy.waitForSessionEnds(1)
        let mail = try #require(proxy.commandEvent("MAIL", argument: "SIZE=20000"))
        #expect(mail["action"] as? String == "reject")
        #expect(mail["rule"] as? String == "limits.max-message-size")
        let statistics = try #require(PostfixInstance.commandStatistics(postfix.waitForSessions(since: mark)).first)
        #expect(statistics["mail"] == "1", "only the small MAIL reached Postfix: \(statistics)")
    }

    @Test func aMessageOverTheLimitIsAnswered552AndNeverDelivered() async throws {
        let rules = """
            settings:
              limits:
                max-message-size: 10_000
            """
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: rules)
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("toolarge")
        let line = String(repeating: "0123456789abcdef", count: 4) + "\r\n"  // 66 octets
        let big = testMessage(token: token, body: String(repeating: line, count: 500) + "end of \(token)\r\n")  // ~33 kB
        let client = try RawSMTPClient(port: proxy.port)
        try client.open()
        #expect(try client.command("MAIL FROM:<alice@example.net>").hasPrefix("250 "))
        #expect(try client.command("RCPT TO:<bob@example.org>").hasPrefix("250 "))
        #expect(try client.command("DATA").hasPrefix("354 "))
        try client.send(big + ".\r\n")
        let refusal = try #require(try client.readReply())
        #expect(refusal.hasPrefix("552 5.3.4"), "\(refusal)")
        // The upstream transaction is gone: the session can only end.
        let quit = (try? client.command("QUIT")) ?? "<closed>"
        #expect(quit.hasPrefix("221 ") || quit.hasPrefix("421 ") || quit == "<closed>", "\(quit)")
        let events = proxy.waitForSessionEnds(1)
        let message = try #require(events.first { $0["event"] as? String == "message" })
        #expect(message["result"] as? Int == 552)
        #expect(proxy.anomalyKinds().contains("message-too-large"))

        // Postfix lost the connection in the middle of DATA; the queue file it had opened for the
        // transaction never reached the queue manager.
        let log = postfix.waitForSessions(since: mark)
        #expect(log.contains("lost connection after DATA"), "\(log)")
        let queueID = try #require(try log.firstMatch(of: Regex("([0-9A-F]{6,}): client=localhost"))?.output[1].substring)
        #expect(!log.contains("\(queueID): from=<"), "the aborted message was queued: \(log)")

        // A message within the limit, sent afterwards, is delivered; the big one still is not.
        let small = uniqueToken("small")
        let after = try RawSMTPClient(port: proxy.port)
        try after.open()
        try after.send("MAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
        #expect(try after.readReplies(3).last?.hasPrefix("354 ") == true)
        try after.send(testMessage(token: small) + ".\r\nQUIT\r\n")
        #expect(try after.readReplies(2).first?.hasPrefix("250 ") == true)
        #expect(postfix.waitForMessage(containing: small) != nil)
        postfix.waitForSessions(since: mark, count: 2)
        #expect(postfix.messages(containing: token).isEmpty, "the message over the limit was delivered")
    }

    @Test func commandLinesOverTheLimitGet500AndAreNotForwarded() async throws {
        let rules = """
            settings:
              limits:
                max-line-length: 100
            """
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: rules)
        defer { Task { await proxy.stop() } }
        let client = try RawSMTPClient(port: proxy.port)
        try client.open()
        let atLimit = "NOOP " + String(repeating: "a", count: 93)  // 100 octets with CRLF
        let overLimit = "NOOP " + String(repeating: "b", count: 94)  // 101
        try client.send("\(overLimit)\r\n\(atLimit)\r\nRCPT TO:<\(String(repeating: "c", count: 120))@example.org>\r\nNOOP\r\n")
        let replies = try client.readReplies(4)
        #expect(replies[0].hasPrefix("500 5.5.2"), "\(replies)")
        #expect(replies[1].hasPrefix("250 "), "\(replies)")
        #expect(replies[2].hasPrefix("500 5.5.2"), "\(replies)")
        #expect(replies[3].hasPrefix("250 "), "\(replies)")
        #expect(try client.command("QUIT").hasPrefix("221 "))
        proxy.waitForSessionEnds(1)
        let refused = proxy.commandEvents().filter { $0["action"] as? String == "reject" }
        #expect(refused.count == 2)
        #expect(refused.allSatisfy { $0["rule"] as? String == "limits.max-line-length" })
        #expect(proxy.anomalyKinds().filter { $0 == "line-too-long" }.count == 2)
        let statistics = try #require(PostfixInstance.commandStatistics(postfix.waitForSessions(since: mark)).first)
        #expect(statistics["noop"] == "2" && statistics["rcpt"] == nil, "\(statistics)")
        #expect(!postfix.log(since: mark).contains("bbbbbbbb"))
    }
}
