import NIOCore
import NIOEmbedded
import SMTPCore
@testable import SMTPProxy
import SMTPServices
import Testing

/// The NIO edge alone (issue 14 item 8): a `ProxySession` between two `EmbeddedChannel`s, one per
/// leg, in the style of swift-nio-imap's handler tests. What each leg receives and in what order,
/// when `read()` reaches the socket, half-closes, the RFC 5321 timer on the loop's own clock, and
/// consults held until the test answers.
@Suite struct ProxySessionEdgeTests {
    static let greeting = "220 mx.example ESMTP\r\n"

    /// A session past the greeting and EHLO, both legs open.
    static func greeted(policies: PolicyStore = PolicyStore(policy: NoRules())) throws -> EmbeddedProxySession {
        let session = try EmbeddedProxySession(policies: policies)
        try session.connectClient()
        try session.acceptUpstream()
        try session.serverSends(greeting)
        #expect(try session.toClient() == greeting)
        try session.clientSends("EHLO client.example\r\n")
        #expect(try session.toServer() == "EHLO client.example\r\n")
        try session.serverSends("250-mx.example\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n")
        #expect(try session.toClient() == "250-mx.example\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n")
        return session
    }

    @Test func theClientIsNotReadUntilTheUpstreamLegIsUp() throws {
        let session = try EmbeddedProxySession()
        try session.connectClient()
        #expect(session.connector.attempts == 1, "the session asks for its upstream as it starts")
        session.client.read()
        #expect(session.clientProbe.reads == 0, "no upstream yet: the client's read() waits")
        #expect(try session.toClient().isEmpty, "the greeting is the upstream's")
        try session.acceptUpstream()
        #expect(session.clientProbe.reads == 1, "the read held back goes out once the upstream is connected")
        try session.serverSends(Self.greeting)
        #expect(try session.toClient() == Self.greeting)
    }

    @Test func pipelinedRepliesReachTheClientInCommandOrder() throws {
        let rules = ProxyHarness.shippedFilters + "/20-reconnaissance.yaml"
        let session = try Self.greeted(policies: try PolicyStore(paths: [rules]))
        // VRFY is refused by the proxy itself, between two commands the upstream answers.
        try session.clientSends("MAIL FROM:<a@example.org>\r\nVRFY postmaster\r\nNOOP\r\n")
        #expect(try session.toServer() == "MAIL FROM:<a@example.org>\r\nNOOP\r\n", "VRFY never reaches the upstream")
        #expect(try session.toClient().isEmpty, "the local refusal waits for the reply to MAIL")
        try session.serverSends("250 2.1.0 Ok\r\n")
        #expect(try session.toClient() == "250 2.1.0 Ok\r\n502 5.5.1 VRFY and EXPN are disabled\r\n")
        try session.serverSends("250 2.0.0 Ok\r\n")
        #expect(try session.toClient() == "250 2.0.0 Ok\r\n")
        let commands = session.events().filter { $0["event"] as? String == "command" }.compactMap { $0["verb"] as? String }
        #expect(commands == ["EHLO", "MAIL", "VRFY", "NOOP"])
    }

    @Test func onlyTheEndOfAReadFlushes() throws {
        let session = try Self.greeted()
        session.client.pipeline.fireChannelRead(ByteBuffer(string: "MAIL FROM:<a@example.org>\r\n"))
        session.client.pipeline.fireChannelRead(ByteBuffer(string: "RCPT TO:<b@example.net>\r\n"))
        #expect(try session.toServer().isEmpty, "written, not flushed, until channelReadComplete")
        session.client.pipeline.fireChannelReadComplete()
        #expect(try session.toServer() == "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n")
    }

    @Test func readsPauseWhileAReplyDecidesHowToReadWhatFollows() throws {
        let session = try Self.greeted()
        try session.clientSends("AUTH PLAIN\r\n")
        #expect(try session.toServer() == "AUTH PLAIN\r\n")
        let before = session.clientProbe.reads
        session.client.read()
        #expect(session.clientProbe.reads == before, "the next bytes may be a credential: they stay in the socket")
        try session.serverSends("334 \r\n")
        #expect(try session.toClient() == "334 \r\n")
        #expect(session.clientProbe.reads == before + 1, "the reply decided: the held read goes out")
        session.client.read()
        #expect(session.clientProbe.reads == before + 2)
    }

    @Test func aFullServerLegStopsTheClientsReads() throws {
        let session = try Self.greeted()
        let server = try #require(session.server)
        server.isWritable = false
        server.pipeline.fireChannelWritabilityChanged()
        let before = session.clientProbe.reads
        session.client.read()
        #expect(session.clientProbe.reads == before)
        server.isWritable = true
        server.pipeline.fireChannelWritabilityChanged()
        #expect(session.clientProbe.reads == before + 1)
        // And the other way: a client that does not read its replies stops the upstream's reads.
        session.client.isWritable = false
        session.client.pipeline.fireChannelWritabilityChanged()
        let serverBefore = session.serverProbe.reads
        server.read()
        #expect(session.serverProbe.reads == serverBefore)
        session.client.isWritable = true
        session.client.pipeline.fireChannelWritabilityChanged()
        #expect(session.serverProbe.reads == serverBefore + 1)
    }

    @Test func clientHalfCloseShutsTheUpstreamsOutputAndTheReplyStillArrives() throws {
        let session = try Self.greeted()
        try session.clientSends("QUIT\r\n")
        #expect(try session.toServer() == "QUIT\r\n")
        session.client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(session.serverProbe.closes == [.output], "the upstream sees end of input, the leg stays readable")
        #expect(session.client.isActive, "the client still waits for its reply")
        try session.serverSends("221 2.0.0 Bye\r\n")
        #expect(try session.toClient() == "221 2.0.0 Bye\r\n")
        #expect(!session.client.isActive, "QUIT answered: the client's leg is closed")
        #expect(session.serverProbe.closes == [.output, .all], "and the upstream's")
        let end = try #require(session.events().last)
        #expect(end["event"] as? String == "session-end")
        #expect(end["reason"] as? String == "quit")
    }

    @Test func theTimeoutFiresOnTheLoopsClockAndCloses() throws {
        let session = try Self.greeted()
        // Activity moves the deadline: 4 minutes in, a command re-arms the 5-minute wait.
        session.loop.advanceTime(by: .minutes(4))
        try session.clientSends("NOOP\r\n")
        try session.serverSends("250 2.0.0 Ok\r\n")
        #expect(try session.toClient() == "250 2.0.0 Ok\r\n")
        session.loop.advanceTime(by: .minutes(4))
        #expect(session.client.isActive, "5 minutes from the start, but only 4 from the last command")
        #expect(try session.toClient().isEmpty)
        session.loop.advanceTime(by: .minutes(1))
        #expect(try session.toClient() == "421 4.4.2 Error: timeout exceeded, closing\r\n")
        #expect(!session.client.isActive)
        #expect(session.serverProbe.closes.last == .all)
        let end = try #require(session.events().last)
        #expect(end["reason"] as? String == "timeout")
    }

    @Test func aConsultHoldsItsCommandAndEverythingBehindIt() throws {
        let consultant = HeldConsultant(stages: [.rcpt])
        let session = try Self.greeted(policies: PolicyStore(policy: NoRules(), consultants: [consultant]))
        try session.clientSends("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n")
        #expect(try session.toServer() == "MAIL FROM:<a@example.org>\r\n", "RCPT waits for its verdict, the rest behind it")
        #expect(consultant.asked.map(\.request.path) == ["b@example.net"])
        try session.serverSends("250 2.1.0 Ok\r\n")
        #expect(try session.toClient() == "250 2.1.0 Ok\r\n")
        consultant.answer(Verdict(.reply(SMTPReply(code: 550, "5.7.1 <b@example.net>: not here"))))
        #expect(try session.toClient() == "550 5.7.1 <b@example.net>: not here\r\n")
        #expect(try session.toServer().isEmpty, "the next RCPT is consulted in its turn")
        #expect(consultant.asked.map(\.request.path) == ["c@example.net"])
        consultant.answer(.proceed)
        #expect(try session.toServer() == "RCPT TO:<c@example.net>\r\nDATA\r\n")
        try session.serverSends("250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n")
        #expect(try session.toClient() == "250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n")
    }

    @Test func aConsultAtConnectComesBeforeTheUpstream() throws {
        let consultant = HeldConsultant(stages: [.connect])
        let session = try EmbeddedProxySession(policies: PolicyStore(policy: NoRules(), consultants: [consultant]))
        try session.connectClient()
        #expect(consultant.asked.count == 1)
        #expect(session.connector.attempts == 0, "the upstream is contacted only once the verdict lets the client in")
        consultant.answer(.proceed)
        #expect(session.connector.attempts == 1)
        try session.acceptUpstream()
        try session.serverSends(Self.greeting)
        #expect(try session.toClient() == Self.greeting)
    }

    @Test func aClientRefusedAtConnectCostsTheUpstreamNothing() throws {
        let session = try EmbeddedProxySession(maxConnections: 0)
        try session.connectClient()
        #expect(try session.toClient() == "421 4.7.0 Error: too many connections, try again later\r\n")
        #expect(!session.client.isActive)
        #expect(session.connector.attempts == 0)
        #expect(session.eventNames() == ["session-start", "reply", "session-end"])
        #expect(session.events().last?["reason"] as? String == "max-connections")
    }

    @Test func theLogReachesTheDiskSoonAfterTheLastSessionEnds() throws {
        let session = try EmbeddedProxySession(maxConnections: 0)
        let path = session.directory + "/audit.jsonl"
        try session.connectClient()
        #expect(!session.client.isActive)
        #expect(auditEvents(at: path).isEmpty, "no write per session: a flood of refusals would pay one each")
        session.loop.advanceTime(by: IdleLogFlush.delay - .milliseconds(1))
        #expect(auditEvents(at: path).isEmpty)
        session.loop.advanceTime(by: .milliseconds(1))
        #expect(auditEvents(at: path).compactMap { $0["event"] as? String } == ["session-start", "reply", "session-end"])
    }

    @Test func anUnreachableUpstreamGets421AndTheClientIsClosed() throws {
        let session = try EmbeddedProxySession()
        try session.connectClient()
        session.connector.refuse(ChannelError.connectTimeout(.seconds(30)))
        let reply = try session.toClient()
        #expect(reply.hasPrefix("421 "), "got \(reply)")
        #expect(!session.client.isActive)
        #expect(session.events().last?["event"] as? String == "session-end")
    }
}
