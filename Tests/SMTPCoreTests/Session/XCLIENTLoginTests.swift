import SMTPCore
import Testing

/// `--xclient` after AUTH (SPEC §11): the upstream that offers `XCLIENT … LOGIN` is told the
/// authenticated user, and greeted again, out of the client's sight; the client's next command
/// waits for that and then goes on.
@Suite struct XCLIENTLoginTests {
    static let offering = "250-mx.example\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 XCLIENT NAME ADDR PROTO HELO LOGIN\r\n"
    static let alicePlain = "AGFsaWNlAHMzY3JldC1wdw=="  // \0alice\0s3cret-pw

    static func authenticated(ehloReply: String = offering, xclient: Bool = true, plain: String = alicePlain) -> EngineHarness {
        var h = EngineHarness(xclient: xclient)
        h.server("220 mx.example ESMTP\r\n")
        h.client("EHLO client.example\r\n")
        h.server(ehloReply)
        h.client("AUTH PLAIN \(plain)\r\n")
        _ = h.takeToServer()
        _ = h.takeToClient()
        // The client pipelines its transaction right behind AUTH.
        h.client("MAIL FROM:<alice@example.org>\r\n")
        h.server("235 2.7.0 Authentication successful\r\n")
        return h
    }

    @Test func theUserIsToldAndTheSessionGreetedAgainBeforeTheClientGoesOn() {
        var h = Self.authenticated()
        #expect(h.takeToClient() == "235 2.7.0 Authentication successful\r\n")
        #expect(h.takeToServer() == "XCLIENT LOGIN=alice\r\n")
        h.server("220 mx.example ESMTP\r\n")
        #expect(h.takeToServer() == "EHLO client.example\r\n")
        h.server(Self.offering)
        #expect(h.takeToServer() == "MAIL FROM:<alice@example.org>\r\n")
        h.server("250 2.1.0 Ok\r\n")
        // The client saw its own replies only.
        #expect(h.takeToClient() == "250 2.1.0 Ok\r\n")
        #expect(h.replyEvents.map(\.code) == [220, 250, 235, 250])
        #expect(h.commandEvents.map(\.verb) == ["EHLO", "AUTH", "MAIL"])
        #expect(h.anomalyKinds.isEmpty)
    }

    @Test func aRefusalIsLoggedAndTheSessionGoesOn() {
        var h = Self.authenticated()
        #expect(h.takeToServer() == "XCLIENT LOGIN=alice\r\n")
        h.server("550 5.7.0 Error: insufficient authorization\r\n")
        #expect(h.anomalyKinds == ["xclient-unavailable"])
        #expect(h.takeToServer() == "MAIL FROM:<alice@example.org>\r\n")
        #expect(h.takeToClient() == "235 2.7.0 Authentication successful\r\n")
    }

    @Test func nothingIsSaidWithoutTheOfferTheOptionOrAKnownUser() {
        let cases: [(reply: String, option: Bool, plain: String)] = [
            ("250-mx.example\r\n250 XCLIENT NAME ADDR PROTO HELO\r\n", true, Self.alicePlain),  // no LOGIN
            ("250-mx.example\r\n250 AUTH PLAIN\r\n", true, Self.alicePlain),  // no XCLIENT
            (Self.offering, false, Self.alicePlain),  // not --xclient
            (Self.offering, true, "=")  // no identity the engine could read
        ]
        for (reply, option, plain) in cases {
            var h = Self.authenticated(ehloReply: reply, xclient: option, plain: plain)
            #expect(h.takeToServer() == "MAIL FROM:<alice@example.org>\r\n", "\(reply) \(option) \(plain)")
        }
    }

    @Test func theUserIsXtextEncoded() {
        // \0a+b=c d\0pw
        var h = Self.authenticated(plain: "AGErYj1jIGQAcHc=")
        #expect(h.takeToServer() == "XCLIENT LOGIN=a+2Bb+3Dc+20d\r\n")
    }
}

/// Under `--xclient` the upstream trusts every XCLIENT on the proxy's connection: the client must
/// neither see the keyword nor get its own XCLIENT through (it could name any address or user).
@Suite struct XCLIENTKeptFromTheClientTests {
    @Test func theKeywordIsStrippedAndTheClientsOwnXCLIENTRefused() {
        var h = EngineHarness(xclient: true)
        h.server("220 mx.example ESMTP\r\n")
        h.client("EHLO client.example\r\n")
        h.server(XCLIENTLoginTests.offering)
        #expect(h.takeToClient() == "220 mx.example ESMTP\r\n250-mx.example\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n")
        _ = h.takeToServer()
        h.client("XCLIENT LOGIN=admin ADDR=10.0.0.1\r\nNOOP\r\n")
        #expect(h.takeToServer() == "NOOP\r\n")
        #expect(h.takeToClient() == "502 5.5.1 Error: command not implemented\r\n")
        #expect(h.commandEvents.first { $0.verb == "XCLIENT" }?.rule == "--xclient")
        #expect(h.replyEvents.first { $0.forVerb == "EHLO" }?.stripped.map(\.keyword) == ["XCLIENT"])
    }

    @Test func withoutTheOptionNothingChanges() {
        var h = EngineHarness()
        h.server("220 mx.example ESMTP\r\n")
        h.client("EHLO client.example\r\n")
        h.server(XCLIENTLoginTests.offering)
        #expect(h.takeToClient().hasSuffix("250 XCLIENT NAME ADDR PROTO HELO LOGIN\r\n"))
        h.client("XCLIENT NAME=x\r\n")
        #expect(h.takeToServer().hasSuffix("XCLIENT NAME=x\r\n"))
    }
}

extension XCLIENTKeptFromTheClientTests {
    @Test func aDryRunKeepsXCLIENTFromTheClientToo() {
        var h = EngineHarness(dryRun: true, xclient: true)
        h.server("220 mx.example ESMTP\r\n")
        h.client("EHLO client.example\r\n")
        h.server(XCLIENTLoginTests.offering)
        #expect(!h.takeToClient().contains("XCLIENT"))
        _ = h.takeToServer()
        h.client("XCLIENT ADDR=10.0.0.1\r\n")
        #expect(h.takeToServer() == "")
        #expect(h.takeToClient() == "502 5.5.1 Error: command not implemented\r\n")
    }
}
