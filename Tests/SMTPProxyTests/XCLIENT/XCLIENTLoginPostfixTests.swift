import Foundation
import SMTPProxy
import Testing

/// `proxy --xclient` after AUTH (SPEC §11), against a Postfix that authenticates with Cyrus
/// sasldb and trusts the proxy for XCLIENT: after the client's AUTH succeeds, the proxy tells
/// Postfix `XCLIENT LOGIN=<user>` (and says EHLO again), so Postfix logs the message as the
/// user's (`sasl_method=XCLIENT, sasl_username=alice`); the client's transcript is the same as
/// through a proxy without `--xclient` (but for the XCLIENT keyword, which the proxy keeps to
/// itself), and an XCLIENT of the client's own never reaches Postfix.
@Suite(.serialized) struct XCLIENTLoginPostfixTests {
    /// One authenticated message from 127.0.0.9; the client's replies, queue id blanked out.
    static func session(port: Int, token: String) throws -> [String] {
        let smtp = try RawSMTPClient(port: port, source: "127.0.0.9")
        let opened = try smtp.open()
        var replies = [opened.greeting, opened.ehlo]
        replies.append(try SASLPostfix.authenticate(smtp, password: SASLPostfix.password))
        for line in ["MAIL FROM:<alice@example.net>", "RCPT TO:<bob@example.org>", "DATA", testMessage(token: token) + ".", "QUIT"] {
            replies.append(try smtp.command(line))
        }
        return replies.map { $0.replacingOccurrences(of: #"queued as [0-9A-F]+"#, with: "queued as QUEUEID", options: .regularExpression) }
    }

    /// Postfix's log line for the message carrying `token` (its `client=…, sasl_…` line).
    static func clientLine(_ postfix: PostfixInstance, queueIDOf message: String) -> String? {
        guard let range = message.range(of: #"with E?SMTPS?A? id [0-9A-F]+"#, options: .regularExpression) else { return nil }
        let queueID = String(message[range].split(separator: " ").last ?? "")
        return postfix.log().components(separatedBy: "\n").first { $0.contains("\(queueID): client=") }
    }

    @Test func postfixLogsTheUserTheProxyNamedAndTheClientSeesNoDifference() async throws {
        let postfix = try SASLPostfix.start(extraMainCF: ["smtpd_authorized_xclient_hosts = 127.0.0.0/8", "smtpd_peername_lookup = no"])
        defer { postfix.stop() }
        let with = try await ProxyHarness(upstreamPort: postfix.port, xclient: true)
        let without = try await ProxyHarness(upstreamPort: postfix.port)
        let (tokenWith, tokenWithout) = (uniqueToken("xclient-login"), uniqueToken("plain-login"))
        let (withPort, withoutPort) = (with.port, without.port)
        let transcriptWith = try await onThread { try Self.session(port: withPort, token: tokenWith) }
        let transcriptWithout = try await onThread { try Self.session(port: withoutPort, token: tokenWithout) }
        #expect(XCLIENTProxyTests.comparable(transcriptWith) == XCLIENTProxyTests.comparable(transcriptWithout))
        #expect(!transcriptWith[1].contains("XCLIENT"), "\(transcriptWith[1])")
        #expect(transcriptWith[2].hasPrefix("235 "), "\(transcriptWith)")
        #expect(transcriptWith[6].hasPrefix("250 2.0.0 Ok"), "\(transcriptWith)")

        // With --xclient Postfix took the user from the proxy's XCLIENT; without, from the AUTH.
        let message = try #require(postfix.waitForMessage(containing: tokenWith))
        let line = try #require(Self.clientLine(postfix, queueIDOf: message), "\(postfix.log().suffix(3000))")
        #expect(line.contains("client=unknown[127.0.0.9]"), "\(line)")
        #expect(line.contains("sasl_method=XCLIENT, sasl_username=alice"), "\(line)")
        let plain = try #require(postfix.waitForMessage(containing: tokenWithout))
        let plainLine = try #require(Self.clientLine(postfix, queueIDOf: plain))
        #expect(plainLine.contains("sasl_method=PLAIN, sasl_username=alice"), "\(plainLine)")

        with.waitForSessionEnds(1)
        #expect(with.anomalyKinds().isEmpty, "\(with.anomalyKinds())")
        // The proxy's own exchange is not in the client's audit trail either.
        #expect(!with.events().contains { ($0["verb"] as? String) == "XCLIENT" || ($0["text"] as? String)?.contains("XCLIENT") == true })

        // A client trying XCLIENT itself (Postfix would believe it: the connection is the proxy's).
        let forged = try await onThread { () throws -> String in
            let smtp = try RawSMTPClient(port: withPort, source: "127.0.0.10")
            _ = try smtp.open()
            let reply = try smtp.command("XCLIENT LOGIN=postmaster ADDR=10.9.9.9")
            _ = try smtp.command("QUIT")
            return reply
        }
        #expect(forged.hasPrefix("502 5.5.1"), "\(forged)")
        with.waitForSessionEnds(2)
        #expect(!postfix.log().contains("10.9.9.9") && !postfix.log().contains("sasl_username=postmaster"))
        #expect(with.anomalyKinds().contains("stripped-keyword-used"), "\(with.anomalyKinds())")
        await with.stop()
        await without.stop()
    }
}
