import Foundation
import NIOCore
import NIOPosix
import Testing

/// A held message under the 1 MiB kept in memory but larger than the upstream leg's write buffer
/// mark: releasing it flips the leg's writability while the release loop writes. Several such
/// messages in one session, by DATA and by BDAT, each arrive whole (the benchmark's 1 MiB run
/// once trapped on the second message when a nested release ended the first under its loop).
@Suite(.serialized) struct MilterInMemoryReleaseTests {
    @Test func messagesJustUnderTheMemoryLimitAreReleasedOneAfterAnother() async throws {
        let postfix = try DedicatedPostfix.instance("milters")
        let group = MultiThreadedEventLoopGroup.singleton  // never shut down: a milter task may finish after a test
        let fake = try await FakeMilter(group: group, endOfMessage: [("h", FakeMilter.strings("X-Scanned", "yes"))], recordsBodies: false)
        let rules = "settings:\n  milters:\n    - {name: fake, socket: 'inet:127.0.0.1:\(fake.port)', timeout: 60s}\n"
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: rules)
        let client = try RawSMTPClient(port: proxy.port, timeout: 120)
        try client.open()
        var sent: [(token: String, body: Substring)] = []
        for round in 0..<4 {
            let token = uniqueToken("inmemory\(round)")
            let message = MilterSpooledMessageTests.bigMessage(token, octets: 900 << 10)
            let original = String(decoding: message, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
            sent.append((token, original[original.range(of: "\n\n")!.upperBound...]))
            let reply: String
            if round % 2 == 1 {
                reply = try MilterChunkingEndToEndTests.sendChunked(client, message, chunkSize: 200_000).last ?? "<none>"
            } else {
                reply = try MilterProxyEndToEndTests.send(client, message)
            }
            #expect(reply.hasPrefix("250 "), "message \(round): \(reply)")
        }
        #expect(try client.command("QUIT").hasPrefix("221 "))
        for (token, body) in sent {
            let delivered = try #require(postfix.waitForMessages(containing: token, count: 1).first)
            #expect(delivered.contains("X-Scanned: yes\n"))
            #expect(delivered.hasSuffix(body), "\(token): delivered \(delivered.utf8.count) octets")
        }
        _ = proxy.waitForSessionEnds(1)
        await proxy.stop()
        await fake.stop()
    }
}
