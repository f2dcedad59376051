import NIOCore
import NIOEmbedded
@testable import SMTPProxy
import Testing

/// `SessionChannelHandler` on its own: when it makes its session, and what it lets through
/// without one.
@Suite struct SessionChannelHandlerTests {
    @Test func behindAProxyHeaderTheSessionStartsAtTheHeaderForItsClient() throws {
        let session = try EmbeddedProxySession(waitsForProxyHeader: true)
        try session.connectClient()
        #expect(session.connector.attempts == 0, "no session before the header: nothing is contacted")
        session.client.read()
        #expect(session.clientProbe.reads == 1, "without a session the leg reads: the decoder needs the header")
        let header = ProxyHeader(
            version: .v1, source: try SocketAddress(ipAddress: "203.0.113.9", port: 51_000),
            destination: try SocketAddress(ipAddress: "192.0.2.1", port: 25))
        session.client.pipeline.fireUserInboundEventTriggered(header)
        #expect(session.connector.attempts == 1)
        let start = try #require(session.events().first)
        #expect(start["event"] as? String == "session-start")
        #expect(start["client"] as? String == "203.0.113.9:51000", "the header's source is the client: \(start)")
        // A second header (a confused balancer) starts nothing more.
        session.client.pipeline.fireUserInboundEventTriggered(header)
        #expect(session.connector.attempts == 1)
    }

    @Test func theClientsCloseBeforeTheUpstreamConnectsEndsTheSessionOnce() throws {
        let session = try EmbeddedProxySession()
        try session.connectClient()
        try session.client.close().wait()
        #expect(session.events().filter { $0["event"] as? String == "session-end" }.isEmpty, "the upstream connect is still under way")
        let server = try session.acceptUpstream()
        #expect(!server.isActive, "the upstream that arrives for a gone client is closed at once")
        let ends = session.events().filter { $0["event"] as? String == "session-end" }
        #expect(ends.count == 1)
        #expect(ends.first?["reason"] as? String == "client-closed")
    }
}
