import Foundation
import NIOCore
import NIOPosix
import Testing

/// The proxy in front of Postfix with `settings.milters`: rspamd refuses GTUBE with its reply and
/// Postfix never gets it while the session goes on; a clean message reaches Postfix with rspamd's
/// headers and OpenDKIM's signature, which verifies on the delivered copy; clamav-milter keeps the
/// EICAR attachment out.
@Suite(.serialized) struct MilterProxyEndToEndTests {
    let postfix: PostfixInstance

    init() throws {
        postfix = try DedicatedPostfix.instance("milters")
    }

    static func rules(_ milters: [(name: String, port: Int)]) -> String {
        "settings:\n  milters:\n" + milters.map { "    - name: \($0.name)\n      socket: inet:127.0.0.1:\($0.port)\n      timeout: 60s\n" }.joined()
    }

    /// Sends one message on an open session; returns the reply to its end of data. Blocking: call
    /// it `onThread`, so that the proxy's milter tasks keep Swift's cooperative pool.
    static func send(_ client: RawSMTPClient, _ message: [UInt8], from: String = "alice@example.test", to: String = "bob@example.org") throws -> String {
        try client.send("MAIL FROM:<\(from)>\r\nRCPT TO:<\(to)>\r\nDATA\r\n")
        let replies = try client.readReplies(3)
        guard replies.map({ $0.prefix(3) }) == ["250", "250", "354"] else { return "MAIL/RCPT/DATA: \(replies)" }
        try client.send(LargeMessageTests.dotStuff(message) + Array(".\r\n".utf8))
        return try client.readReply() ?? "<closed>"
    }

    @Test func gtubeIsRefusedWithRspamdsReplyAndTheSessionGoesOn() async throws {
        let rspamd = try RspamdMilter.shared()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: Self.rules([("rspamd", rspamd.milterPort)]))
        defer { Task { await proxy.stop() } }
        let spam = uniqueToken("gtube")
        let clean = uniqueToken("clean")
        let port = proxy.port
        let (refused, accepted, quit) = try await onThread { () throws -> (String, String, String) in
            let client = try RawSMTPClient(port: port, timeout: 120)
            try client.open()
            let refused = try Self.send(client, RealMilterTests.message(subject: spam, body: ["spam", RealMilterTests.gtube]))
            // The same session goes on: the next message is delivered.
            let accepted = try Self.send(client, RealMilterTests.message(subject: clean, body: ["a clean message"]))
            return (refused, accepted, try client.command("QUIT"))
        }
        #expect(refused == "554 5.7.1 Gtube pattern\r\n")
        #expect(accepted.hasPrefix("250 "), "\(accepted)")
        #expect(quit.hasPrefix("221 "))

        let delivered = postfix.waitForMessages(containing: clean, count: 1)
        #expect(delivered.count == 1)
        let text = delivered.first ?? ""
        #expect(text.contains("X-Spamd-Result: "), "\(text)")
        #expect(postfix.deliveredFiles(containing: spam).isEmpty)
        #expect(!postfix.log().contains(spam))

        let events = proxy.waitForSessionEnds(1)
        let milterEvents = events.filter { $0["event"] as? String == "milter" && $0["stage"] as? String == "eom" }
        #expect(milterEvents.first?["verdict"] as? String == "replycode")
        #expect(milterEvents.first?["reply"] as? String == "554 5.7.1 Gtube pattern")
        let results = events.filter { $0["event"] as? String == "message" }.map { $0["result"] as? Int }
        #expect(results == [554, 250])
        for event in events where ["milter", "message", "reply"].contains(event["event"] as? String) {
            print("GTUBE through the proxy:", event)
        }
    }

    @Test func aCleanMessageArrivesWithRspamdHeadersAndAVerifyingDKIMSignature() async throws {
        let rspamd = try RspamdMilter.shared()
        let opendkim = try OpenDKIMMilter.shared()
        let proxy = try await ProxyHarness(
            upstreamPort: postfix.port, rules: Self.rules([("rspamd", rspamd.milterPort), ("opendkim", opendkim.port)]))
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("signed")
        let port = proxy.port
        let (reply, quit) = try await onThread { () throws -> (String, String) in
            let client = try RawSMTPClient(port: port, timeout: 120)
            try client.open()
            let reply = try Self.send(client, RealMilterTests.message(subject: token, body: ["Signed on its way.", ".a dot line", ""]))
            return (reply, try client.command("QUIT"))
        }
        #expect(reply.hasPrefix("250 "), "\(reply)")
        #expect(quit.hasPrefix("221 "))
        let delivered = postfix.waitForMessages(containing: token, count: 1)
        let text = try #require(delivered.first)
        #expect(text.contains("X-Spamd-Result: ") && text.contains("DKIM-Signature: "), "\(text)")
        // The Maildir copy has LF line ends: back to CRLF, as it travelled.
        let onTheWire = Data(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let verification = try opendkim.verify(onTheWire)
        print("DKIM verification of the delivered message (dkimpy):", verification.output)
        #expect(verification.verified, "\(verification.output)")
    }

    @Test func theEICARAttachmentNeverReachesPostfix() async throws {
        let clamav = try ClamAVMilter.shared()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: Self.rules([("clamav", clamav.milterPort)]))
        defer { Task { await proxy.stop() } }
        let port = proxy.port
        let (reply, quit) = try await onThread { () throws -> (String, String) in
            let client = try RawSMTPClient(port: port, timeout: 120)
            try client.open()
            let reply = try Self.send(client, RealMilterTests.withAttachment(ClamAVMilter.eicar, name: "eicar.com"))
            return (reply, try client.command("QUIT"))
        }
        #expect(reply.hasPrefix("5"), "\(reply)")
        #expect(quit.hasPrefix("221 "))
        let events = proxy.waitForSessionEnds(1)
        #expect(events.contains { $0["event"] as? String == "milter" && $0["milter"] as? String == "clamav" && $0["stage"] as? String == "eom" })
        #expect(postfix.deliveredFiles(containing: Data(ClamAVMilter.eicar.utf8).base64EncodedString()).isEmpty)
    }

    /// Pipelined recipients, one refused by a milter: the replies come back in command order (the
    /// milter's refusal among Postfix's acceptances) and the message goes to the others.
    @Test func pipelinedRecipientsRefusedByAMilterKeepReplyOrder() async throws {
        let group = MultiThreadedEventLoopGroup.singleton  // never shut down: a milter task may finish after a test
        let fake = try await FakeMilter(group: group, rejectRecipientsContaining: "mallory@example.org")
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: Self.rules([("fake", fake.port)]))
        let token = uniqueToken("pipelined")
        let client = try RawSMTPClient(port: proxy.port, timeout: 60)
        try client.open()
        try client.send(
            "MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<mallory@example.org>\r\n"
                + "RCPT TO:<carol@example.org>\r\nDATA\r\n")
        let replies = try client.readReplies(5)
        #expect(replies.map { String($0.prefix(3)) } == ["250", "250", "550", "250", "354"], "\(replies)")
        #expect(replies[2] == "550 5.7.1 <mallory@example.org> refused by the milter\r\n")
        try client.send(LargeMessageTests.dotStuff(RealMilterTests.message(subject: token, body: ["to two of three"])) + Array(".\r\n".utf8))
        let queued = try client.readReply() ?? "<closed>"
        #expect(queued.hasPrefix("250 "), "\(queued)")
        #expect(try client.command("QUIT").hasPrefix("221 "))
        #expect(postfix.waitForMessages(containing: token, count: 2).count == 2)
        let events = proxy.waitForSessionEnds(1)
        #expect(events.contains { $0["event"] as? String == "milter" && $0["stage"] as? String == "rcpt" && $0["verdict"] as? String == "replycode" })
        await proxy.stop()
        await fake.stop()
    }

    /// A milter killed while the client sends the message: its on-error verdict (tempfail) is the
    /// answer, Postfix gets nothing, and the session goes on.
    @Test func aMilterKilledMidMessageTempfailsAndNothingIsDelivered() async throws {
        let opendkim = try OpenDKIMMilter.dedicated()
        defer { opendkim.daemon.stop() }
        let proxy = try await ProxyHarness(
            upstreamPort: postfix.port,
            rules: "settings:\n  milters:\n    - {name: opendkim, socket: 'inet:127.0.0.1:\(opendkim.port)', timeout: 10s, on-error: tempfail}\n")
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("killed")
        let client = try RawSMTPClient(port: proxy.port, timeout: 60)
        try client.open()
        try client.send("MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
        #expect(try client.readReplies(3).map { String($0.prefix(3)) } == ["250", "250", "354"])
        opendkim.daemon.kill()
        try client.send(LargeMessageTests.dotStuff(RealMilterTests.message(subject: token, body: ["lost"])) + Array(".\r\n".utf8))
        #expect(try client.readReply() == "451 4.7.1 Service unavailable - try again later\r\n")
        #expect(try client.command("NOOP").hasPrefix("250 "))
        #expect(try client.command("QUIT").hasPrefix("221 "))
        let events = proxy.waitForSessionEnds(1)
        #expect(events.contains { $0["event"] as? String == "anomaly" && $0["kind"] as? String == "milter-error" })
        #expect(postfix.deliveredFiles(containing: token).isEmpty)
        #expect(!postfix.log().contains(token))
    }
}
