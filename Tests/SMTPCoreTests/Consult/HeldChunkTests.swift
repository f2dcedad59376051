import NIOCore
import SMTPCore
import Testing

/// BDAT with milters (`holdsMessages`): the chunks are held until LAST like DATA content, each
/// BDAT answered by the proxy in pipeline order, and the message released as one BDAT LAST.
@Suite struct HeldChunkTests {
    static let greeting = "220 mx.example ESMTP\r\n"
    static let ehloReply = "250-mx.example\r\n250-PIPELINING\r\n250 CHUNKING\r\n"
    static let client =
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
        + "BDAT 22\r\nSubject: chunked\r\n\r\n.a"  // 22 octets: a leading dot is content in BDAT
        + "BDAT 8 LAST\r\nbare\nx\r\n" + "QUIT\r\n"

    static func session(
        segments: [String] = [client], policy: any InspectionPolicy = NoRules()
    ) -> EngineHarness {
        var h = EngineHarness(policy: policy, consultStages: [.endOfMessage], holdsMessages: true)
        h.server(greeting)
        // EHLO's reply first: whether the upstream offers CHUNKING decides how BDAT is taken.
        h.client("EHLO client.example\r\n")
        h.server(ehloReply)
        for segment in segments { h.client(segment) }
        return h
    }

    static var heldContent: String { "Subject: chunked\r\n\r\n.abare\nx\r\n" }

    @Test func chunkingStaysOfferedAndChunksAreHeldUntilLast() {
        var h = Self.session()
        #expect(h.takeToServer() == "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n")
        h.server("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n")
        #expect(
            h.takeToClient()
                == Self.greeting + Self.ehloReply + "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: 22 octets received\r\n")
        // The chunks' octets as sent: no dot-unstuffing, bare LF kept.
        #expect(h.held == Self.heldContent)
        #expect(h.consults.count == 1 && h.consults.first?.request.stage == .endOfMessage)
        #expect(h.consults.first?.request.facts.size == 30)
        // Nothing after LAST goes upstream before the verdict.
        #expect(h.takeToServer().isEmpty)
        h.decide()
        #expect(h.chunkReleases == 1 && h.releases == 0)
        #expect(h.takeToServer().isEmpty)  // the driver writes BDAT 30 LAST and the content
        h.released()
        #expect(h.takeToServer() == "QUIT\r\n")
        h.server("250 2.0.0 Ok: queued as ABC\r\n221 2.0.0 Bye\r\n")
        #expect(h.takeToClient() == "250 2.0.0 Ok: queued as ABC\r\n221 2.0.0 Bye\r\n")
        #expect(h.messageEvents.count == 1)
        #expect(h.messageEvents.last?.result == 250)
        #expect(h.messageEvents.last?.size == 30)
        #expect(h.messageEvents.last?.subject == "chunked")
        #expect(h.replyEvents.last(where: { $0.code == 250 && !$0.local })?.forVerb == "BDAT")
        #expect(h.commandEvents.map(\.verb) == ["EHLO", "MAIL", "RCPT", "BDAT", "BDAT", "QUIT"])
    }

    @Test func aRefusedChunkedMessageNeverReachesTheUpstream() {
        var h = Self.session()
        h.server("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n")
        _ = h.takeToClient()
        _ = h.takeToServer()
        h.decide(Verdict(.reply(SMTPReply(code: 554, "5.7.1 Gtube pattern"))))
        #expect(h.discards == 1 && h.chunkReleases == 0)
        #expect(h.takeToServer() == "RSET\r\nQUIT\r\n")
        h.server("250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n")
        #expect(h.takeToClient() == "554 5.7.1 Gtube pattern\r\n221 2.0.0 Bye\r\n")
        #expect(h.messageEvents.last?.result == 554)
        #expect(h.replyEvents.first(where: { $0.code == 554 })?.forVerb == "BDAT")
    }

    /// The same bytes in any segmentation give the same hold, replies and verdict request.
    @Test(arguments: [1, 2, 3, 5, 7, 11, 64])
    func segmentationDoesNotChangeWhatIsHeld(size: Int) {
        let bytes = Array(Self.client.utf8)
        var segments: [String] = []
        var index = 0
        while index < bytes.count {
            let end = min(index + size, bytes.count)
            segments.append(String(decoding: bytes[index..<end], as: UTF8.self))
            index = end
        }
        var h = Self.session(segments: segments)
        h.server("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n")
        #expect(h.held == Self.heldContent)
        #expect(h.takeToClient().hasSuffix("250 2.1.5 Ok\r\n250 2.0.0 Ok: 22 octets received\r\n"))
        #expect(h.consults.count == 1)
        #expect(h.takeToServer() == "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n")
    }

    /// A chunk's reply waits for the replies owed before it, also when its octets are all in.
    @Test func pipelinedChunksKeepReplyOrder() {
        var h = EngineHarness(consultStages: [.endOfMessage], holdsMessages: true)
        h.server(Self.greeting)
        h.client("EHLO c\r\n")
        h.server(Self.ehloReply)
        _ = h.takeToClient()
        h.client("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nBDAT 3\r\nabcBDAT 2\r\ndeBDAT 0 LAST\r\n")
        #expect(h.takeToClient().isEmpty)
        #expect(h.consults.isEmpty)
        h.server("250 Ok\r\n250 Ok\r\n")
        #expect(h.takeToClient() == "250 Ok\r\n250 Ok\r\n")
        h.server("550 5.1.1 unknown\r\n")
        #expect(h.takeToClient() == "550 5.1.1 unknown\r\n250 2.0.0 Ok: 3 octets received\r\n250 2.0.0 Ok: 2 octets received\r\n")
        #expect(h.held == "abcde")
        #expect(h.consults.count == 1)
        #expect(h.consults.first?.request.facts.recipients == ["b@example.net"])
    }

    @Test func chunksWithoutAcceptedRecipientsAreRefusedAndDropped() {
        var h = EngineHarness(consultStages: [.endOfMessage], holdsMessages: true)
        h.server(Self.greeting)
        h.client("EHLO c\r\n")
        h.server(Self.ehloReply)
        _ = h.takeToClient()
        h.client("MAIL FROM:<a@example.org>\r\nRCPT TO:<nobody@example.net>\r\nBDAT 3\r\nabcBDAT 2 LAST\r\ndeNOOP\r\n")
        h.server("250 Ok\r\n550 5.1.1 unknown\r\n")
        #expect(
            h.takeToClient()
                == "250 Ok\r\n550 5.1.1 unknown\r\n554 5.5.1 Error: no valid recipients\r\n554 5.5.1 Error: no valid recipients\r\n")
        #expect(h.discards == 1)
        #expect(h.consults.isEmpty)
        // The session goes on: the NOOP after the failed message reaches the upstream.
        #expect(h.takeToServer().hasSuffix("NOOP\r\n"))
        #expect(h.messageEvents.isEmpty)
    }

    @Test func chunksOverMaxMessageSizeAreRefusedAndTheUpstreamTransactionReset() {
        let policy = TestPolicy(settings: PolicySettings(maxMessageSize: 10))
        var h = EngineHarness(policy: policy, consultStages: [.endOfMessage], holdsMessages: true)
        h.server(Self.greeting)
        h.client("EHLO c\r\n")
        h.server(Self.ehloReply)
        h.client("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n")
        h.server("250 Ok\r\n250 Ok\r\n")
        _ = h.takeToClient()
        _ = h.takeToServer()
        h.client("BDAT 6\r\n123456BDAT 6 LAST\r\n789012")
        #expect(h.takeToClient() == "250 2.0.0 Ok: 6 octets received\r\n")
        #expect(h.discards == 1 && h.consults.isEmpty)
        #expect(h.held == "123456")
        // The upstream never saw a chunk; its transaction is reset out of the client's sight.
        #expect(h.takeToServer() == "RSET\r\n")
        h.server("250 Ok\r\n")
        #expect(h.takeToClient() == "552 5.3.4 Error: message size exceeds fixed limit\r\n")
        #expect(h.anomalyKinds.contains("message-too-large"))
    }

    @Test func bdatIsRefusedWhenTheUpstreamDoesNotOfferChunking() {
        var h = EngineHarness(consultStages: [.endOfMessage], holdsMessages: true)
        h.server(Self.greeting)
        h.client("EHLO client.example\r\n")
        h.server("250-mx.example\r\n250 PIPELINING\r\n")
        h.client("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 5 LAST\r\nhello")
        h.server("250 Ok\r\n250 Ok\r\n")
        #expect(h.takeToClient().hasSuffix("502 5.5.1 Error: command not implemented\r\n"))
        #expect(!h.takeToServer().contains("BDAT"))
        #expect(h.commandEvents.last?.rule == "settings.milters")
        #expect(h.held.isEmpty && h.consults.isEmpty)
    }

    @Test func rsetBetweenChunksDropsWhatWasHeld() {
        var h = Self.session(segments: [
            "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 3\r\nabcRSET\r\n"
        ])
        h.server("250 Ok\r\n250 Ok\r\n")
        #expect(h.discards == 1)
        #expect(h.takeToServer().hasSuffix("RSET\r\n"))
        h.server("250 2.0.0 Ok\r\n")
        #expect(h.takeToClient().hasSuffix("250 2.0.0 Ok: 3 octets received\r\n250 2.0.0 Ok\r\n"))
        #expect(h.consults.isEmpty)
    }

    @Test func aBDATWithoutATrustworthySizeIsRefusedAndWhatFollowsIsReadAsCommands() {
        var h = Self.session(segments: ["MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"])
        h.server("250 Ok\r\n250 Ok\r\n")
        _ = h.takeToClient()
        _ = h.takeToServer()
        h.client("BDAT 99999999999999999999 LAST\r\nNOOP\r\n")
        #expect(h.takeToClient() == "501 5.5.4 Syntax: BDAT count [LAST]\r\n")
        #expect(h.takeToServer() == "NOOP\r\n")
        #expect(h.anomalyKinds.contains("bdat-overflow"))
        #expect(h.held.isEmpty && h.consults.isEmpty)
    }

    /// A milter's shutdown at the end of a chunked message: its reply, then both legs close.
    @Test func aDisconnectVerdictAnswersTheLastChunkAndCloses() {
        var h = Self.session()
        h.server("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n")
        _ = h.takeToClient()
        _ = h.takeToServer()
        h.decide(Verdict(.disconnect(SMTPReply(code: 421, "4.7.0 closing"))))
        #expect(h.takeToClient() == "421 4.7.0 closing\r\n")
        #expect(h.closeClient && h.closeServer)
        #expect(h.chunkReleases == 0 && h.discards == 1)
        #expect(!h.takeToServer().contains("QUIT"))
    }
}
