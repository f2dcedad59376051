import Foundation
import SMTPCore
import Testing

/// SPEC §4 STARTTLS against a Postfix that offers TLS (a throwaway CA made by openssl):
/// `passthrough` relays the TLS session blind and discards plain text pipelined after STARTTLS
/// (CVE-2011-0411 class); `strip` hides STARTTLS, refuses it, and keeps the session inspectable.
@Suite(.serialized) struct STARTTLSTests {
    let postfix: PostfixInstance
    let caFile: String

    init() throws {
        (postfix, caFile) = try TLSPostfix.instance()
    }

    private func swaks(port: Int, token: String, tls: Bool) throws -> ExternalProcess.Result {
        let message = testMessage(token: token) + ".\r\n"
        var arguments = ["--server", "127.0.0.1:\(port)", "--from", "alice@example.net", "--to", "bob@example.org", "--data", "-"]
        if tls { arguments += ["--tls", "--tls-verify", "--tls-ca-path", caFile] }
        return try ExternalProcess.run("swaks", arguments, input: Data(message.utf8))
    }

    @Test func postfixOffersSTARTTLS() throws {
        let mark = postfix.quiescentMark()
        let direct = try RawSMTPClient(port: postfix.port)
        let (_, ehlo) = try direct.open()
        #expect(ehloKeywords(ehlo).contains("STARTTLS"), "\(ehlo)")
        _ = try direct.command("QUIT")
        postfix.waitForSessions(since: mark)
    }

    @Test func passthroughRelaysTheTLSSessionBlind() async throws {
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, tlsMode: .passthrough)
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("tls-pass")
        let result = try swaks(port: proxy.port, token: token, tls: true)
        #expect(result.status == 0, "swaks --tls failed: \(result.output)\(result.error)")
        let delivered = try #require(postfix.waitForMessage(containing: token))
        #expect(delivered.contains("(using TLS"), "Postfix received it over TLS: \(delivered.prefix(600))")

        let events = proxy.waitForSessionEnds(1)
        let end = try #require(events.first { $0["event"] as? String == "session-end" })
        #expect(end["tls"] as? String == "passthrough")
        // The proxy saw EHLO and STARTTLS; everything after the 220 was ciphertext, relayed blind.
        #expect(proxy.commandEvents().map { $0["verb"] as? String } == ["EHLO", "STARTTLS"])
        #expect(proxy.events("message").isEmpty)
        let log = postfix.waitForSessions(since: mark)
        #expect(log.contains("TLS connection established from localhost"), "\(log)")
        let statistics = try #require(PostfixInstance.commandStatistics(log).first)
        #expect(statistics["starttls"] == "1" && statistics["mail"] == "1" && statistics["data"] == "1", "\(statistics)")
    }

    @Test func plainTextPipelinedAfterSTARTTLSIsDiscarded() async throws {
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, tlsMode: .passthrough)
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("injected")
        let client = try RawSMTPClient(port: proxy.port)
        try client.open()
        try client.send("STARTTLS\r\nMAIL FROM:<\(token)@example.net>\r\n")
        let reply = try #require(try client.readReply())
        #expect(reply.hasPrefix("220 "), "\(reply)")
        // No TLS handshake follows: the client ends. It must get nothing but the 220.
        client.shutdownWrite()
        #expect(try client.readToEnd() == "", "the injected MAIL was answered")

        let events = proxy.waitForSessionEnds(1)
        #expect(proxy.anomalyKinds().contains("pipelined-after-starttls"))
        #expect(proxy.commandEvent("MAIL") == nil)
        let end = try #require(events.first { $0["event"] as? String == "session-end" })
        #expect(end["tls"] as? String == "passthrough")
        let log = postfix.waitForSessions(since: mark)
        #expect(!log.contains(token), "Postfix saw the injected MAIL: \(log)")
        let statistics = try #require(PostfixInstance.commandStatistics(log).first)
        // "starttls=0/1": Postfix said 220, then no handshake came.
        #expect(statistics["starttls"] != nil && statistics["mail"] == nil, "\(statistics)")
    }

    @Test func stripHidesAndRefusesSTARTTLSAndThePlainSessionWorks() async throws {
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, tlsMode: .strip)
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("tls-strip")
        let client = try RawSMTPClient(port: proxy.port)
        let (_, ehlo) = try client.open()
        #expect(!ehloKeywords(ehlo).contains("STARTTLS"), "\(ehlo)")
        #expect(isWellFramed(ehlo), "\(ehlo)")
        #expect(try client.command("STARTTLS").hasPrefix("502 5.5.1"))
        // The session stays in clear text and inspected.
        try client.send("MAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
        #expect(try client.readReplies(3).map { $0.prefix(3) } == ["250", "250", "354"])
        try client.send(testMessage(token: token) + ".\r\nQUIT\r\n")
        #expect(try client.readReplies(2).map { $0.prefix(3) } == ["250", "221"])
        let delivered = try #require(postfix.waitForMessage(containing: token))
        #expect(!delivered.contains("(using TLS"))
        proxy.waitForSessionEnds(1)
        let starttls = try #require(proxy.commandEvent("STARTTLS"))
        #expect(starttls["action"] as? String == "reject")
        #expect(starttls["rule"] as? String == "--tls strip")
        let ehloReply = try #require(proxy.events("reply").first { $0["for"] as? String == "EHLO" })
        #expect((ehloReply["stripped"] as? [[String: Any]])?.first?["keyword"] as? String == "STARTTLS")
        #expect(proxy.events("message").first?["subject"] as? String == token)
        #expect(proxy.events("session-end").first?["tls"] as? String == "none")

        // swaks insisting on TLS gives up cleanly; without --tls it delivers.
        let refused = try swaks(port: proxy.port, token: uniqueToken("tls-strip-refused"), tls: true)
        #expect(refused.status != 0, "swaks --tls succeeded through --tls strip: \(refused.output)")
        #expect(refused.output.contains("STARTTLS") || refused.error.contains("STARTTLS"), "\(refused.output)\(refused.error)")
        let plainToken = uniqueToken("tls-strip-swaks")
        let plain = try swaks(port: proxy.port, token: plainToken, tls: false)
        #expect(plain.status == 0, "\(plain.output)\(plain.error)")
        #expect(postfix.waitForMessage(containing: plainToken) != nil)
        let ends = proxy.waitForSessionEnds(3)
        #expect(ends.filter { $0["event"] as? String == "session-end" }.allSatisfy { $0["tls"] as? String == "none" })
        let log = postfix.waitForSessions(since: mark, count: 3)
        #expect(PostfixInstance.commandStatistics(log).allSatisfy { $0["starttls"] == nil }, "Postfix saw STARTTLS: \(log)")
    }
}
