import Foundation
import NIOCore
import Testing

/// BDAT (RFC 3030) through the proxy with rspamd as milter, in front of Postfix: the chunks are
/// held until LAST (each answered by the proxy), the milters read the message, and only then does
/// Postfix get it — as one `BDAT <size> LAST` with the octets rspamd read.
@Suite(.serialized) struct MilterChunkingEndToEndTests {
    let postfix: PostfixInstance

    init() throws {
        postfix = try DedicatedPostfix.instance("milters")
    }

    /// Sends `message` in chunks of `chunkSize` octets, all pipelined in one write after MAIL and
    /// RCPT; returns the replies to the BDAT commands (the last is the message's). Blocking: call
    /// it `onThread`, so that the proxy's milter tasks keep the cooperative pool.
    static func sendChunked(_ client: RawSMTPClient, _ message: [UInt8], chunkSize: Int) throws -> [String] {
        var bytes = Array("MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.org>\r\n".utf8)
        var offset = 0
        var commands = 0
        while offset < message.count {
            let end = min(offset + chunkSize, message.count)
            bytes += Array("BDAT \(end - offset)\(end == message.count ? " LAST" : "")\r\n".utf8) + message[offset..<end]
            commands += 1
            offset = end
        }
        try client.send(bytes)
        let replies = try client.readReplies(2 + commands)
        guard replies.prefix(2).map({ $0.prefix(3) }) == ["250", "250"] else {
            throw RawSMTPClient.Failure(description: "MAIL/RCPT not accepted: \(replies)")
        }
        return Array(replies.dropFirst(2))
    }

    @Test func gtubeInChunksIsRefusedAndACleanChunkedMessageIsDeliveredWithRspamdsHeaders() async throws {
        let rspamd = try RspamdMilter.shared()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: MilterProxyEndToEndTests.rules([("rspamd", rspamd.milterPort)]))
        defer { Task { await proxy.stop() } }
        let spam = uniqueToken("bdatgtube")
        let clean = uniqueToken("bdatclean")
        // GTUBE split across chunks: no chunk alone holds the pattern. Then, in the same session,
        // a clean message with a line that starts with a dot (no stuffing in BDAT).
        let spamMessage = RealMilterTests.message(subject: spam, body: ["spam follows", RealMilterTests.gtube, "end"])
        let cleanMessage = RealMilterTests.message(subject: clean, body: ["a clean chunked message", ".a dot line", "bye"])
        let port = proxy.port
        let (ehlo, refused, accepted, quit) = try await onThread { () throws -> (String, [String], [String], String) in
            let client = try RawSMTPClient(port: port, timeout: 120)
            let (_, ehlo) = try client.open()
            let refused = try Self.sendChunked(client, spamMessage, chunkSize: 100)
            let accepted = try Self.sendChunked(client, cleanMessage, chunkSize: 64)
            return (ehlo, refused, accepted, try client.command("QUIT"))
        }
        #expect(ehloKeywords(ehlo).contains("CHUNKING"), "\(ehlo)")
        #expect(refused.dropLast().allSatisfy { $0.hasPrefix("250 2.0.0 Ok: ") && $0.hasSuffix(" octets received\r\n") }, "\(refused)")
        #expect(refused.last == "554 5.7.1 Gtube pattern\r\n")
        #expect(accepted.last?.hasPrefix("250 ") == true, "\(accepted)")
        #expect(quit.hasPrefix("221 "))

        let delivered = postfix.waitForMessages(containing: clean, count: 1)
        let text = try #require(delivered.first)
        #expect(text.contains("X-Spamd-Result: "), "\(text)")
        #expect(text.contains("\n.a dot line\n"), "\(text)")
        let originalText = String(decoding: cleanMessage, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        #expect(text.hasSuffix(String(originalText[originalText.range(of: "\n\n")!.upperBound...])))
        #expect(postfix.deliveredFiles(containing: spam).isEmpty)
        #expect(!postfix.log().contains(spam))

        let events = proxy.waitForSessionEnds(1)
        let eom = events.filter { $0["event"] as? String == "milter" && $0["stage"] as? String == "eom" }
        #expect(eom.first?["verdict"] as? String == "replycode")
        let results = events.filter { $0["event"] as? String == "message" }.map { $0["result"] as? Int }
        #expect(results == [554, 250])
        // The milters heard DATA once per message, not once per chunk.
        #expect(events.filter { $0["event"] as? String == "milter" && $0["stage"] as? String == "data" }.count <= 2)
        let bdatReplies = events.filter { $0["event"] as? String == "reply" && $0["for"] as? String == "BDAT" }
        #expect(bdatReplies.contains { $0["code"] as? Int == 554 && $0["local"] as? Bool == true })
        #expect(bdatReplies.contains { $0["code"] as? Int == 250 && $0["local"] as? Bool == false })
    }
}
