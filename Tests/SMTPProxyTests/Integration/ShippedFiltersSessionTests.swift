import Foundation
import Testing

/// The session an operator would try first: swaks through the proxy with the shipped filters
/// into a real Postfix.
@Suite(.serialized) struct ShippedFiltersSessionTests {
    @Test func swaksMessageIsDeliveredByteExactAndLogged() async throws {
        let postfix = PostfixInstance.shared
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, filterPaths: [ProxyHarness.shippedFilters])
        defer { Task { await proxy.stop() } }
        let token = "tok-" + UUID().uuidString
        // Complete headers, so Postfix adds none of its own inside the message.
        let message = "From: alice@example.net\r\nDate: Sun, 29 Nov 2026 09:00:00 +0000\r\nSubject: \(token)\r\n"
            + "Message-ID: <\(token)@example.net>\r\n\r\nline one\r\n.leading dot (swaks stuffs it)\r\n\ttab\r\n"
        let body = message + ".\r\n"
        let swaks = try ExternalProcess.run(
            "swaks",
            ["--server", "127.0.0.1:\(proxy.port)", "--from", "alice@example.net", "--to", "bob@example.org", "--data", "-"],
            input: Data(body.utf8))
        #expect(swaks.status == 0, "swaks failed: \(swaks.output)")
        let delivered = try #require(postfix.waitForMessage(containing: token))
        // Postfix prepends Return-Path, Delivered-To and Received; the message follows byte for
        // byte (the Maildir stores LF line ends).
        #expect(delivered.hasSuffix(message.replacingOccurrences(of: "\r\n", with: "\n")))
        let events = proxy.waitForSessionEnds(1)
        let record = try #require(events.first { $0["event"] as? String == "message" })
        #expect(record["subject"] as? String == token)
        #expect(record["message_id"] as? String == "<\(token)@example.net>")
        #expect(record["mail_from"] as? String == "alice@example.net")
        #expect(record["rcpt_to"] as? [String] == ["bob@example.org"])
        #expect(record["result"] as? Int == 250)
    }

    @Test func vrfyIsRefusedByTheProxyAndNeverReachesPostfix() async throws {
        let postfix = try DedicatedPostfix.instance("shipped-filters")
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, filterPaths: [ProxyHarness.shippedFilters])
        defer { Task { await proxy.stop() } }
        let client = try RawSMTPClient(port: proxy.port)
        #expect(try client.readReply()?.hasPrefix("220 ") == true)
        try client.send("EHLO client.test\r\n")
        let ehlo = try #require(try client.readReply())
        #expect(ehlo.contains("SIZE 52428800"), "the shipped limit lowers SIZE: \(ehlo)")
        try client.send("VRFY root\r\nvrfy\tpostmaster\r\nNOOP\r\nQUIT\r\n")
        let replies = try client.readReplies(4)
        #expect(replies[0].hasPrefix("502 5.5.1"))
        #expect(replies[1].hasPrefix("502 5.5.1"))
        #expect(replies[2].hasPrefix("250"))
        #expect(replies[3].hasPrefix("221"))
        let events = proxy.waitForSessionEnds(1)
        let commands = events.filter { $0["event"] as? String == "command" }
        #expect(commands.map { $0["verb"] as? String } == ["EHLO", "VRFY", "VRFY", "NOOP", "QUIT"])
        #expect(commands.map { $0["action"] as? String } == ["forward", "reject", "reject", "forward", "forward"])
        // Postfix's own session summary counts every command it received: no vrfy among them.
        let statistics = PostfixInstance.commandStatistics(postfix.waitForSessions(since: mark))
        #expect(statistics.count == 1 && statistics[0]["vrfy"] == nil && statistics[0]["quit"] == "1", "\(statistics)")
    }
}
