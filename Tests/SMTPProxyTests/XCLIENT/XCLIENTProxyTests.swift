import Foundation
import SMTPProxy
import Testing

/// `proxy --xclient` in front of a Postfix that trusts the proxy for XCLIENT: Postfix logs and
/// stamps the real client, and the client's transcript is the same as without `--xclient`.
@Suite(.serialized)
struct XCLIENTProxyTests {

    /// One message from 127.0.0.9 (a client address other than the proxy's own); the client's
    /// replies with the queue id blanked out.
    static func session(port: Int, token: String) throws -> [String] {
        let smtp = try RawSMTPClient(port: port, source: "127.0.0.9")
        let opened = try smtp.open()
        var replies = [opened.greeting, opened.ehlo]
        for line in ["MAIL FROM:<alice@example.net>", "RCPT TO:<bob@example.org>", "DATA", testMessage(token: token) + ".", "QUIT"] {
            replies.append(try smtp.command(line))
        }
        return replies.map { $0.replacingOccurrences(of: #"queued as [0-9A-F]+"#, with: "queued as QUEUEID", options: .regularExpression) }
    }

    /// A transcript with its EHLO reply (the second reply) as its keywords other than XCLIENT.
    static func comparable(_ transcript: [String]) -> [String] {
        transcript.enumerated().map { index, reply in
            index == 1 ? ehloKeywords(reply).filter { $0 != "XCLIENT" }.joined(separator: " ") : reply
        }
    }

    @Test func postfixSeesTheClientAndTheClientSeesNoDifference() async throws {
        let postfix = try PostfixInstance(extraMainCF: ["smtpd_authorized_xclient_hosts = 127.0.0.0/8", "smtpd_peername_lookup = no"])
        defer { postfix.stop() }
        let with = try await ProxyHarness(upstreamPort: postfix.port, xclient: true)
        let without = try await ProxyHarness(upstreamPort: postfix.port)
        let tokenWith = uniqueToken("xclient")
        let tokenWithout = uniqueToken("plain")
        let (withPort, withoutPort) = (with.port, without.port)
        let transcriptWith = try await onThread { try Self.session(port: withPort, token: tokenWith) }
        let transcriptWithout = try await onThread { try Self.session(port: withoutPort, token: tokenWithout) }
        // The same, but for XCLIENT: the proxy keeps it from the client (Postfix offers it on both
        // proxies' connections, as both come from an authorized address).
        #expect(Self.comparable(transcriptWith) == Self.comparable(transcriptWithout))
        #expect(!transcriptWith[1].contains("XCLIENT") && isWellFramed(transcriptWith[1]), "\(transcriptWith[1])")
        #expect(transcriptWith.first == "220 upstream.test ESMTP\r\n")
        let message = try #require(postfix.waitForMessage(containing: tokenWith))
        #expect(message.contains("from client.test (unknown [127.0.0.9])"), "\(message.prefix(500))")
        let plain = try #require(postfix.waitForMessage(containing: tokenWithout))
        #expect(plain.contains("(unknown [127.0.0.1])"), "\(plain.prefix(500))")
        #expect(postfix.log().contains("connect from unknown[127.0.0.9]"), "\(postfix.log().suffix(1500))")
        with.waitForSessionEnds(1)
        #expect(!with.anomalyKinds().contains("xclient-unavailable"))
        await with.stop()
        await without.stop()
    }

    /// An upstream that does not trust the proxy: the session goes on unchanged, with one
    /// `xclient-unavailable` anomaly.
    @Test func untrustedProxyLogsXCLIENTUnavailable() async throws {
        let postfix = try PostfixInstance()
        defer { postfix.stop() }
        let harness = try await ProxyHarness(upstreamPort: postfix.port, xclient: true)
        let token = uniqueToken("untrusted")
        let port = harness.port
        let transcript = try await onThread { try Self.session(port: port, token: token) }
        #expect(transcript.first == "220 upstream.test ESMTP\r\n")
        #expect(transcript[5].hasPrefix("250 2.0.0 Ok"), "\(transcript)")
        harness.waitForSessionEnds(1)
        #expect(harness.anomalyKinds().filter { $0 == "xclient-unavailable" }.count == 1, "\(harness.anomalyKinds())")
        await harness.stop()
    }
}
