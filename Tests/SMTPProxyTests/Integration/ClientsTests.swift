import Foundation
import Testing

/// Real clients through the proxy with the shipped filters: swaks (pipelining, several
/// recipients) and Python's smtplib (three messages in one session, one of them pipelined).
@Suite(.serialized) struct ClientsTests {
    let postfix = PostfixInstance.shared

    @Test func swaksWithPipeliningDeliversToEveryRecipient() async throws {
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, filterPaths: [ProxyHarness.shippedFilters])
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("swaks-pipe")
        let message = testMessage(token: token, body: "first line\r\n.starts with a dot\r\nlast line\r\n")
        let result = try ExternalProcess.run(
            "swaks",
            [
                "--server", "127.0.0.1:\(proxy.port)", "--pipeline", "--from", "alice@example.net",
                "--to", "a-\(token)@example.org,b-\(token)@example.org,c-\(token)@example.net", "--data", "-",
            ],
            input: Data((message + ".\r\n").utf8))
        #expect(result.status == 0, "swaks failed: \(result.output)\(result.error)")
        let delivered = postfix.waitForMessages(containing: token, count: 3)
        // swaks dot-stuffs the line, the proxy keeps the stuffing, Postfix removes it.
        #expect(delivered.allSatisfy { $0.hasSuffix("\n\nfirst line\n.starts with a dot\nlast line\n") })
        let events = proxy.waitForSessionEnds(1)
        let record = try #require(events.first { $0["event"] as? String == "message" })
        #expect((record["rcpt_to"] as? [String])?.count == 3)
        #expect(record["result"] as? Int == 250)
    }

    static let smtplibScript = #"""
        import smtplib, sys
        port, token = int(sys.argv[1]), sys.argv[2]

        def message(i):
            return (f"From: alice@example.net\r\nTo: bob@example.org\r\nSubject: {token}-{i}\r\n"
                    f"Message-ID: <{token}-{i}@example.net>\r\nDate: Sun, 29 Nov 2026 09:00:00 +0000\r\n\r\n"
                    f"message {i} of {token}\r\n.a line that starts with a dot\r\n")

        with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
            s.ehlo("smtplib.test")
            assert s.has_extn("pipelining"), s.esmtp_features
            for i in (1, 2):
                refused = s.sendmail("alice@example.net", ["bob@example.org", f"carol-{token}@example.org"], message(i))
                assert not refused, refused
            # The third with MAIL and both RCPTs pipelined in one write (RFC 2920).
            s.send(f"MAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<carol-{token}@example.org>\r\n")
            for _ in range(3):
                code, text = s.getreply()
                assert code == 250, (code, text)
            code, text = s.data(message(3))
            assert code == 250, (code, text)
        print("sent 3")
        """#

    @Test func pythonSmtplibSendsThreeMessagesInOneSession() async throws {
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, filterPaths: [ProxyHarness.shippedFilters])
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("smtplib")
        let result = try ExternalProcess.run("python3", ["-c", Self.smtplibScript, "\(proxy.port)", token])
        #expect(result.status == 0, "smtplib failed: \(result.output)\(result.error)")
        #expect(result.output.contains("sent 3"))
        for i in 1...3 {
            let delivered = postfix.waitForMessages(containing: "\(token)-\(i)", count: 2)
            #expect(delivered.count == 2)
            // smtplib stuffed the dot; the proxy kept the stuffing; Postfix removed it.
            #expect(delivered.allSatisfy { $0.hasSuffix("\n\nmessage \(i) of \(token)\n.a line that starts with a dot\n") })
        }
        let events = proxy.waitForSessionEnds(1)
        let messages = events.filter { $0["event"] as? String == "message" }
        #expect(messages.map { $0["subject"] as? String } == (1...3).map { "\(token)-\($0)" })
        #expect(messages.allSatisfy { $0["result"] as? Int == 250 && ($0["rcpt_to"] as? [String])?.count == 2 })
        let end = try #require(events.first { $0["event"] as? String == "session-end" })
        #expect(end["messages"] as? Int == 3)
        #expect(end["reason"] as? String == "quit")
    }
}
