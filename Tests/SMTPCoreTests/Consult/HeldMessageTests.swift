import NIOCore
import SMTPCore
import Testing

/// With milters (`holdsMessages`) the proxy answers DATA itself, hands the content to the driver
/// without dot-stuffing, and forwards the message only after the end-of-message verdict.
@Suite struct HeldMessageTests {
    static func transaction() -> EngineHarness {
        var h = EngineHarness(consultStages: [.endOfMessage], holdsMessages: true)
        h.server("220 mx.example ESMTP\r\n")
        h.client("EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
        #expect(h.takeToServer() == "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n")
        h.server("250-mx.example\r\n250 PIPELINING\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n")
        // The proxy's own 354, once the RCPT was accepted.
        #expect(h.takeToClient().hasSuffix("250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"))
        h.client("Subject: held\r\n\r\n..leading dot\r\nbody\r\n.\r\nQUIT\r\n")
        #expect(h.takeToServer().isEmpty)
        #expect(h.held == "Subject: held\r\n\r\n.leading dot\r\nbody\r\n")
        #expect(h.consults.first?.request.stage == .endOfMessage)
        return h
    }

    @Test func anAcceptedMessageGoesUpstreamAfterItsVerdict() {
        var h = Self.transaction()
        h.decide()
        #expect(h.takeToServer() == "DATA\r\n")  // QUIT waits behind the message
        h.server("354 go ahead\r\n")
        #expect(h.releases == 1)
        #expect(h.takeToClient().isEmpty)  // the upstream's 354 is the proxy's business
        h.released()
        #expect(h.takeToServer() == "QUIT\r\n")
        h.server("250 2.0.0 queued as 1\r\n221 Bye\r\n")
        #expect(h.takeToClient() == "250 2.0.0 queued as 1\r\n221 Bye\r\n")
        #expect(h.messageEvents.last?.result == 250)
    }

    @Test func aRefusedMessageNeverReachesTheUpstreamAndTheSessionGoesOn() {
        var h = Self.transaction()
        h.decide(Verdict(.reply(SMTPReply(code: 554, "5.7.1 Gtube pattern"))))
        #expect(h.discards == 1)
        #expect(h.takeToServer() == "RSET\r\nQUIT\r\n")
        h.server("250 2.0.0 Ok\r\n221 Bye\r\n")
        #expect(h.takeToClient() == "554 5.7.1 Gtube pattern\r\n221 Bye\r\n")
        #expect(h.messageEvents.last?.result == 554)
        #expect(h.messageEvents.last?.rcptTo == ["b@example.net"])
        #expect(!h.closeServer)
    }

    @Test func aChangedEnvelopeIsSentAgainHiddenFromTheClient() {
        var h = Self.transaction()
        var verdict = Verdict.proceed
        verdict.sender = "bounce@example.org"
        verdict.recipients = ["b@example.net", "archive@example.net"]
        h.decide(verdict)
        #expect(h.takeToServer() == "RSET\r\nMAIL FROM:<bounce@example.org>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<archive@example.net>\r\nDATA\r\n")
        h.server("250 Ok\r\n250 Ok\r\n250 Ok\r\n550 5.1.1 no such user\r\n354 go\r\n")
        #expect(h.anomalyKinds == ["envelope-change-refused"])
        h.released()
        h.server("250 queued\r\n221 Bye\r\n")
        #expect(h.takeToClient() == "250 queued\r\n221 Bye\r\n")
        #expect(h.messageEvents.last?.rcptTo == ["b@example.net"])
    }

    @Test func anUpstreamThatRefusesTheReleaseAnswersTheClient() {
        var h = Self.transaction()
        h.decide()
        h.server("451 4.3.0 try later\r\n")
        #expect(h.discards == 1 && h.releases == 0)
        #expect(h.takeToClient() == "451 4.3.0 try later\r\n")
        #expect(h.takeToServer() == "DATA\r\nQUIT\r\n")
    }

    @Test func dataWithoutAcceptedRecipientsIsRefusedByTheProxy() {
        var h = EngineHarness(consultStages: [.endOfMessage], holdsMessages: true)
        h.server("220 mx.example ESMTP\r\n")
        h.client("HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<nobody@example.net>\r\nDATA\r\nQUIT\r\n")
        h.server("250 mx\r\n250 Ok\r\n550 5.1.1 unknown\r\n")
        #expect(h.takeToClient().hasSuffix("550 5.1.1 unknown\r\n554 5.5.1 Error: no valid recipients\r\n"))
        #expect(h.held.isEmpty)
    }
}

