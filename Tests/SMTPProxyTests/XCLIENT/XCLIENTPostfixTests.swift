import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
@testable import SMTPProxy
import Testing

/// `XCLIENTHandler` against a real Postfix that trusts loopback for XCLIENT
/// (`smtpd_authorized_xclient_hosts = 127.0.0.0/8`): Postfix logs, checks and stamps the client
/// the handler names, not the connection's own address.
@Suite struct XCLIENTPostfixTests {
    /// Collects what the session behind the handler would see.
    final class Transcript: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let text = NIOLockedValueBox("")
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let chunk = String(buffer: unwrapInboundIn(data))
            text.withLockedValue { $0 += chunk }
        }
    }

    static func converse(port: Int, client: SocketAddress, outcome: NIOLockedValueBox<[XCLIENTOutcome]>, token: String) throws -> String {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let transcript = Transcript()
        let channel = try ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        XCLIENTHandler(client: client) { result in outcome.withLockedValue { $0.append(result) } }, transcript,
                    ])
                }
            }
            .connect(host: "127.0.0.1", port: port).wait()
        defer { try? channel.close().wait() }
        var expectedReplies = 1
        func send(_ line: String) throws {
            try channel.writeAndFlush(ByteBuffer(string: line + "\r\n")).wait()
        }
        func awaitReply() {
            let want = expectedReplies
            _ = waitUntil("reply \(want)") {
                transcript.text.withLockedValue { text in
                    text.split(separator: "\r\n").filter { $0.count >= 4 && $0.dropFirst(3).first == " " }.count >= want
                }
            }
            expectedReplies += 1
        }
        awaitReply()  // the greeting the session sees
        for line in ["EHLO client.example", "MAIL FROM:<alice@example.net>", "RCPT TO:<bob@example.org>", "DATA"] {
            try send(line)
            awaitReply()
        }
        try send("Subject: \(token)\r\n\r\nxclient test\r\n.")
        awaitReply()
        try send("QUIT")
        awaitReply()
        return transcript.text.withLockedValue { $0 }
    }

    @Test func postfixSeesAndStampsTheRealClient() async throws {
        let postfix = try PostfixInstance(extraMainCF: ["smtpd_authorized_xclient_hosts = 127.0.0.0/8", "smtpd_peername_lookup = no"])
        defer { postfix.stop() }
        let token = "xclient-\(UUID().uuidString)"
        let outcome = NIOLockedValueBox<[XCLIENTOutcome]>([])
        let client = try SocketAddress(ipAddress: "192.0.2.7", port: 50123)
        let transcript = try await onThread { try Self.converse(port: postfix.port, client: client, outcome: outcome, token: token) }
        #expect(outcome.withLockedValue { $0 } == [.applied(command: "XCLIENT ADDR=192.0.2.7 PORT=50123 NAME=[UNAVAILABLE] PROTO=ESMTP")])
        // The session saw one greeting and the replies to its own commands: nothing of the exchange.
        let lines = transcript.split(separator: "\r\n")
        #expect(lines.first == "220 upstream.test ESMTP")
        #expect(lines.filter { $0.hasPrefix("220 ") }.count == 1, "\(transcript)")
        #expect(!transcript.contains("XCLIENT"), "\(transcript)")
        let message = try #require(postfix.waitForMessage(containing: token))
        #expect(message.contains("from client.example (unknown [192.0.2.7])"), "\(message.prefix(600))")
        #expect(postfix.log().contains("connect from unknown[192.0.2.7]"), "\(postfix.log().suffix(2000))")
    }

    /// A Postfix that does not trust the proxy refuses XCLIENT: the session gets the original
    /// greeting and goes on as the proxy's own connection.
    @Test func unauthorizedProxyGoesOnWithoutXCLIENT() async throws {
        let postfix = try PostfixInstance(extraMainCF: ["smtpd_authorized_xclient_hosts = 192.0.2.200"])
        defer { postfix.stop() }
        let token = "noxclient-\(UUID().uuidString)"
        let outcome = NIOLockedValueBox<[XCLIENTOutcome]>([])
        let client = try SocketAddress(ipAddress: "192.0.2.7", port: 50123)
        let transcript = try await onThread { try Self.converse(port: postfix.port, client: client, outcome: outcome, token: token) }
        let outcomes = outcome.withLockedValue { $0 }
        #expect(outcomes.count == 1)
        if case .unavailable(let reason) = outcomes.first {
            #expect(reason.hasPrefix("the upstream's EHLO does not offer XCLIENT") || reason.hasPrefix("the upstream refused XCLIENT"), "\(reason)")
        } else {
            Issue.record("expected .unavailable, got \(outcomes)")
        }
        #expect(transcript.hasPrefix("220 upstream.test ESMTP\r\n"))
        let message = try #require(postfix.waitForMessage(containing: token))
        #expect(message.contains("[127.0.0.1]"), "\(message.prefix(600))")
    }
}
