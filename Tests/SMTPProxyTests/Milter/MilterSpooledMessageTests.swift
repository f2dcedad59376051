import Foundation
import NIOCore
import NIOPosix
import Testing

/// A message larger than the 1 MiB held in memory goes to a spool file, written and read back on
/// NIO's thread pool, not the event loop: through the proxy to Postfix, by DATA and by BDAT, it
/// arrives byte for byte with the milter's header, and the spool is empty afterwards.
@Suite(.serialized) struct MilterSpooledMessageTests {
    static func bigMessage(_ token: String, octets: Int) -> [UInt8] {
        var text = "From: Alice <alice@example.test>\r\nTo: Bob <bob@example.org>\r\nSubject: \(token)\r\n\r\n"
        var line = 0
        while text.utf8.count < octets {
            text += (line % 7 == 0 ? "." : "") + "line \(line) of a message held on disk while the milter reads it\r\n"
            line += 1
        }
        return Array(text.utf8)
    }

    @Test(arguments: [false, true])
    func aSpooledMessageArrivesByteForByte(chunked: Bool) async throws {
        let postfix = try DedicatedPostfix.instance("milters")
        let group = MultiThreadedEventLoopGroup.singleton  // never shut down: a milter task may finish after a test
        let fake = try await FakeMilter(group: group, endOfMessage: [("h", FakeMilter.strings("X-Scanned", "yes"))], recordsBodies: false)
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spoolPath = directory.file("spool")
        try FileManager.default.createDirectory(atPath: spoolPath, withIntermediateDirectories: true)
        let rules = "settings:\n  milters:\n    - {name: fake, socket: 'inet:127.0.0.1:\(fake.port)', timeout: 60s}\n  spool: \(spoolPath)\n"
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: rules)
        let token = uniqueToken(chunked ? "spooledbdat" : "spooleddata")
        let message = Self.bigMessage(token, octets: 4 << 20)
        let port = proxy.port
        let (reply, quit) = try await onThread { () throws -> (String, String) in
            let client = try RawSMTPClient(port: port, timeout: 120)
            try client.open()
            let reply: String
            if chunked {
                reply = try MilterChunkingEndToEndTests.sendChunked(client, message, chunkSize: 300_000).last ?? "<none>"
            } else {
                try client.send("MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
                let replies = try client.readReplies(3)
                guard replies.map({ $0.prefix(3) }) == ["250", "250", "354"] else { return ("\(replies)", "") }
                try client.send(LargeMessageTests.dotStuff(message) + Array(".\r\n".utf8))
                reply = try client.readReply() ?? "<closed>"
            }
            return (reply, try client.command("QUIT"))
        }
        #expect(reply.hasPrefix("250 "), "\(reply)")
        #expect(quit.hasPrefix("221 "))
        let delivered = try #require(postfix.waitForMessages(containing: token, count: 1).first)
        #expect(delivered.contains("X-Scanned: yes\n"))
        let original = String(decoding: message, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        let body = original[original.range(of: "\n\n")!.upperBound...]
        #expect(delivered.hasSuffix(body), "delivered \(delivered.utf8.count) octets")
        _ = proxy.waitForSessionEnds(1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: spoolPath).isEmpty)
        await proxy.stop()
        await fake.stop()
    }
}
