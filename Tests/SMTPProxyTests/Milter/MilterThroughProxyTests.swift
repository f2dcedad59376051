import Foundation
import Testing

/// Milters through the whole proxy (SPEC §12): a client, smtp-inspect with `settings.milters`,
/// the real rspamd / OpenDKIM, and Postfix as the upstream.
@Suite(.serialized)
struct MilterThroughProxyTests {
    static func proxy(milters: [(name: String, port: Int)], postfix: PostfixInstance, directory: ScratchDirectory) throws -> (ProxyProcess, Int) {
        var rules = "settings:\n  milters:\n"
        for milter in milters {
            rules += "    - name: \(milter.name)\n      socket: inet:127.0.0.1:\(milter.port)\n      timeout: 60s\n      on-error: tempfail\n"
        }
        rules += "  spool: \(directory.file("spool"))\n"
        try FileManager.default.createDirectory(atPath: directory.file("spool"), withIntermediateDirectories: true)
        try directory.write(rules, to: "milters.yaml")
        return try ProxyProcess.listening(
            upstream: postfix.port, log: directory.file("audit.jsonl"), ["--filters", directory.file("milters.yaml")])
    }

    static func message(_ token: String, body: String) -> String {
        "From: Alice <alice@example.test>\r\nTo: Bob <bob@example.org>\r\nSubject: \(token)\r\n"
            + "Message-ID: <\(token)@example.test>\r\nDate: Mon, 07 Dec 2026 21:00:00 +0000\r\n\r\n\(body)\r\n.\r\n"
    }

    @Test func rspamdRefusesGTUBEAndTheSameSessionDeliversACleanMessageWithItsHeaders() throws {
        let rspamd = try RspamdMilter.shared()
        let postfix = try PostfixInstance()
        defer { postfix.stop() }
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let (proxy, port) = try Self.proxy(milters: [("rspamd", rspamd.milterPort)], postfix: postfix, directory: directory)
        defer { proxy.kill() }

        let spam = "spam-\(UUID().uuidString)"
        let clean = "clean-\(UUID().uuidString)"
        let client = try RawSMTPClient(port: port, timeout: 90)
        #expect(try client.readReply()?.hasPrefix("220") == true)
        try client.send("EHLO client.example.test\r\n")
        _ = try client.readReply()
        try client.send("MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
        #expect(try client.readReplies(3).map { String($0.prefix(3)) } == ["250", "250", "354"])
        try client.send(Self.message(spam, body: "Spam follows.\r\n\(RealMilterTests.gtube)"))
        let refusal = try #require(try client.readReply())
        #expect(refusal.hasPrefix("554") && refusal.contains("Gtube pattern"))
        // The session goes on: a clean message in the same session reaches Postfix.
        try client.send("MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
        #expect(try client.readReplies(3).map { String($0.prefix(3)) } == ["250", "250", "354"])
        try client.send(Self.message(clean, body: "Hello Bob,\r\n..a line starting with a dot\r\nAlice"))
        #expect(try client.readReply()?.hasPrefix("250") == true)
        try client.send("QUIT\r\n")
        #expect(try client.readReply()?.hasPrefix("221") == true)

        let delivered = try #require(postfix.waitForMessage(containing: clean))
        #expect(delivered.contains("X-Spamd-Result") || delivered.contains("X-Rspamd-Server"))
        #expect(delivered.contains("\n.a line starting with a dot\n"))
        #expect(postfix.messages(containing: spam).isEmpty)
        #expect(!postfix.log().contains(spam))

        let events = auditEvents(at: directory.file("audit.jsonl"))
        print("GTUBE session events:", events.filter { ["milter", "message"].contains($0["event"] as? String) })
        let results = events.filter { $0["event"] as? String == "message" }.compactMap { $0["result"] as? Int }
        #expect(results == [554, 250])
        let refused = events.first { $0["event"] as? String == "message" }
        #expect(refused?["mail_from"] as? String == "alice@example.test" && refused?["rcpt_to"] as? [String] == ["bob@example.org"])
        let eom = events.filter { $0["event"] as? String == "milter" && $0["stage"] as? String == "eom" }
        #expect(eom.first?["verdict"] as? String == "replycode")
        // Nothing of either message is left in the spool.
        #expect((try? FileManager.default.contentsOfDirectory(atPath: directory.file("spool")))?.isEmpty ?? true)
    }

    @Test func openDKIMAfterRspamdSignsWhatPostfixDelivers() throws {
        let rspamd = try RspamdMilter.shared()
        let opendkim = try OpenDKIMMilter.shared()
        let postfix = try PostfixInstance()
        defer { postfix.stop() }
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let (proxy, port) = try Self.proxy(
            milters: [("rspamd", rspamd.milterPort), ("opendkim", opendkim.port)], postfix: postfix, directory: directory)
        defer { proxy.kill() }

        let token = "dkim-\(UUID().uuidString)"
        let client = try RawSMTPClient(port: port, timeout: 90)
        _ = try client.readReply()
        try client.send("EHLO client.example.test\r\nMAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
        _ = try client.readReplies(4)
        try client.send(Self.message(token, body: "Signed on the way through."))
        let final = try client.readReply()
        #expect(final?.hasPrefix("250") == true, "\(final ?? "nil"); events: \(auditEvents(at: directory.file("audit.jsonl")).suffix(8))")
        try client.send("QUIT\r\n")
        _ = try client.readReply()

        let delivered = try #require(postfix.waitForMessage(containing: token))
        #expect(delivered.contains("DKIM-Signature:"))
        // What Postfix stored, minus the lines Postfix itself added before the signed header.
        var lines = delivered.components(separatedBy: "\n")
        while let first = lines.first, !first.hasPrefix("DKIM-Signature:") && !first.hasPrefix("X-") && !first.hasPrefix("From:") { lines.removeFirst() }
        let message = Data(lines.joined(separator: "\r\n").utf8)
        let verification = try opendkim.verify(message)
        print("DKIM verification (dkimpy):", verification.output)
        #expect(verification.verified)
    }
}
