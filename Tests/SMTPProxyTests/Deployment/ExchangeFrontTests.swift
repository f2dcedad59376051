import Foundation
import NIOConcurrencyHelpers
import Testing

/// The shipped sample rule directory `deploy/exchange-front/` in front of an upstream that answers
/// as Exchange 2019's Default Frontend connector does (Postfix cannot advertise Exchange's
/// keywords): it is valid, and a session through it hides and refuses what it says it does.
@Suite struct ExchangeFrontTests {
    static let directory = ProxyHarness.repositoryRoot + "/deploy/exchange-front"

    /// Exchange 2019's EHLO reply on port 25 (as seen from the Internet, before STARTTLS).
    static let exchangeEHLO = [
        "250-EX01.contoso.com Hello [192.0.2.10]", "250-SIZE 37748736", "250-PIPELINING", "250-DSN", "250-ENHANCEDSTATUSCODES",
        "250-STARTTLS", "250-X-ANONYMOUSTLS", "250-AUTH NTLM", "250-X-EXPS GSSAPI NTLM", "250-8BITMIME", "250-BINARYMIME",
        "250-CHUNKING", "250-XEXCH50", "250-XRDST", "250-XSHADOWREQUEST", "250 SMTPUTF8",
    ].joined(separator: "\r\n") + "\r\n"

    @Test func sampleRulesAreValid() throws {
        let result = try ProxyProcess.runToExit(["check", Self.directory])
        #expect(result.status == 0, "\(result.output)\(result.error)")
        #expect(result.output.contains("5 files"), "\(result.output)")
    }

    @Test func sessionThroughTheSampleRules() async throws {
        let received = NIOLockedValueBox<[String]>([])
        let upstream = try FakeUpstream { connection in
            connection.send("220 EX01.contoso.com Microsoft ESMTP MAIL Service ready at Sun, 29 Nov 2026 12:00:00 +0100\r\n")
            while let (verb, line) = try connection.readCommand() {
                received.withLockedValue { $0.append(line) }
                switch verb {
                case "EHLO": connection.send(Self.exchangeEHLO)
                case "MAIL": connection.send("250 2.1.0 Sender OK\r\n")
                case "RCPT": connection.send("250 2.1.5 Recipient OK\r\n")
                case "DATA":
                    connection.send("354 Start mail input; end with <CRLF>.<CRLF>\r\n")
                    var digest = BodyDigest()
                    _ = try connection.readBody(digest: &digest)
                    connection.send("250 2.6.0 <id@EX01.contoso.com> [InternalId=1] Queued mail for delivery\r\n")
                case "QUIT":
                    connection.send("221 2.0.0 Service closing transmission channel\r\n")
                    return
                default: connection.send("500 5.3.3 Unrecognized command\r\n")
                }
            }
        }
        defer { upstream.stop() }
        let proxy = try await ProxyHarness(upstreamPort: upstream.port, filterPaths: [Self.directory])
        defer { Task { await proxy.stop() } }

        let client = try RawSMTPClient(port: proxy.port)
        let greeting = try #require(try client.readReply())
        #expect(greeting == "220 mx.example.org ESMTP\r\n", "the banner gives Exchange away: \(greeting)")
        try client.send("EHLO sender.example\r\n")
        let ehlo = try #require(try client.readReply())
        let keywords = ehloKeywords(ehlo)
        #expect(isWellFramed(ehlo), "\(ehlo)")
        for hidden in ["X-ANONYMOUSTLS", "X-EXPS", "XEXCH50", "XRDST", "XSHADOWREQUEST", "AUTH"] {
            #expect(!keywords.contains(hidden), "\(hidden) still advertised: \(ehlo)")
        }
        #expect(keywords.contains("STARTTLS") && keywords.contains("CHUNKING") && keywords.contains("SIZE"))
        try client.send("XEXCH50 16 2\r\nVRFY administrator\r\nX-EXPS GSSAPI\r\nAUTH LOGIN\r\n")
        let refusals = try client.readReplies(4)
        #expect(refusals.allSatisfy { $0.hasPrefix("5") }, "\(refusals)")
        try client.send("MAIL FROM:<a@sender.example>\r\nRCPT TO:<user@contoso.com>\r\nDATA\r\n")
        let transaction = try client.readReplies(3)
        #expect(transaction.map { $0.prefix(3) } == ["250", "250", "354"], "\(transaction)")
        try client.send("Subject: exchange front\r\n\r\nhello\r\n.\r\nQUIT\r\n")
        let end = try client.readReplies(2)
        #expect(end.first?.hasPrefix("250 2.6.0") == true, "\(end)")
        _ = proxy.waitForSessionEnds(1)

        let lines = received.withLockedValue { $0 }
        #expect(lines.map { $0.uppercased() }.allSatisfy { !$0.hasPrefix("XEXCH50") && !$0.hasPrefix("VRFY") && !$0.hasPrefix("X-EXPS") },
            "refused verbs reached the upstream: \(lines)")
        let verdicts = proxy.commandEvents().map { "\($0["verb"] as? String ?? "") \($0["action"] as? String ?? "") \($0["rule"] as? String ?? "-")" }
        // A verb whose keyword was stripped is refused by the strip rule (SPEC §3).
        #expect(verdicts.contains("XEXCH50 reject exchange-hide-internal-keywords"), "\(verdicts)")
        #expect(verdicts.contains("VRFY reject no-vrfy-expn"), "\(verdicts)")
        #expect(verdicts.contains { $0.hasPrefix("AUTH reject") }, "AUTH was stripped, so it is refused: \(verdicts)")
        #expect(proxy.events("message").count == 1)
    }
}
