import TestSupport
import NIOCore
import SMTPCore
import Testing

@Suite struct ReplyParserTests {
    static func parseAll(_ text: String, pieces: Int = 1) -> [ReplyParser.Item] {
        var parser = ReplyParser()
        var buffer = ByteBuffer()
        var items: [ReplyParser.Item] = []
        let bytes = Array(text.utf8)
        let size = max(1, bytes.count / pieces)
        var index = 0
        while index < bytes.count {
            buffer.writeBytes(bytes[index..<min(bytes.count, index + size)])
            index += size
            while let item = parser.next(from: &buffer) { items.append(item) }
        }
        return items
    }

    static func replies(_ text: String) -> [SMTPReply] {
        parseAll(text).compactMap { if case .reply(let reply, _) = $0 { reply } else { nil } }
    }

    @Test func oneLineAndMultiLine() {
        let replies = Self.replies("220 mx ESMTP\r\n250-mx\r\n250-SIZE 100\r\n250 8BITMIME\r\n")
        #expect(replies == [SMTPReply(code: 220, "mx ESMTP"), SMTPReply(code: 250, lines: ["mx", "SIZE 100", "8BITMIME"])])
        #expect(replies[1].raw.map { String(buffer: $0) } == "250-mx\r\n250-SIZE 100\r\n250 8BITMIME\r\n")
    }

    @Test func emptyLastLineAsSmtpSinkSendsIt() {
        let replies = Self.replies("250-smtp-sink\r\n250-PIPELINING\r\n250 \r\n")
        #expect(replies.first?.lines == ["smtp-sink", "PIPELINING", ""])
    }

    @Test func codeAlone() {
        #expect(Self.replies("250\r\n") == [SMTPReply(code: 250, "")])
    }

    @Test func enhancedStatusCodes() {
        #expect(SMTPReply(code: 550, "5.7.1 Relaying denied").enhancedStatusCode == "5.7.1")
        #expect(SMTPReply(code: 250, "Ok").enhancedStatusCode == nil)
        #expect(SMTPReply(code: 452, "4.5.3 too many").enhancedStatusCode == "4.5.3")
    }

    @Test func bareLFRepliesAreReframed() {
        guard case .reply(let reply, let bareLF) = Self.parseAll("250-a\n250 b\n").first else {
            Issue.record("no reply")
            return
        }
        #expect(bareLF)
        #expect(String(buffer: reply.wireBytes) == "250-a\r\n250 b\r\n")
    }

    @Test func malformedLines() {
        let items = Self.parseAll("4.7.0 no code here\r\n250 ok\r\n")
        guard case .malformed(let line, _) = items.first else { Issue.record("not malformed"); return }
        #expect(line == "4.7.0 no code here")
        #expect(items.count == 2)
    }

    @Test func segmentationDoesNotMatter() {
        let text = "220-a\r\n220 b\r\n250-x\r\n250 y\r\n354 go\r\n"
        let whole = Self.parseAll(text).count
        for pieces in [2, 3, 7, text.utf8.count] {
            #expect(Self.parseAll(text, pieces: pieces).count == whole)
        }
    }

    @Test func endlessReplyIsBounded() {
        var parser = ReplyParser(maximumReplyLength: 1000)
        var buffer = ByteBuffer(string: String(repeating: "250-xxxxxxxxx\r\n", count: 100))
        var sawOverlong = false
        while let item = parser.next(from: &buffer) {
            if case .overlong = item { sawOverlong = true }
        }
        #expect(sawOverlong)
        #expect(buffer.readableBytes < 1000)
    }

    @Test func parsesRuleFileReplies() {
        #expect(SMTPReply(parsing: "502 5.5.1 VRFY is disabled") == SMTPReply(code: 502, "5.5.1 VRFY is disabled"))
        #expect(SMTPReply(parsing: "421") == SMTPReply(code: 421, ""))
        #expect(SMTPReply(parsing: "50 x") == nil)
        #expect(SMTPReply(parsing: "600 x") == nil)
        #expect(SMTPReply(parsing: "502-x") == nil)
    }
}

@Suite struct ReplyParserFuzzTests {
    /// Random bytes biased towards reply syntax, in random pieces: the parser never traps and
    /// consumes everything it is given (apart from one unfinished line).
    @Test func randomInputNeverTraps() {
        var rng = SeededGenerator(seed: 7)
        let alphabet: [UInt8] = Array("2505-\r\n \n4x".utf8) + [0, 0xFF]
        for _ in 0..<3000 {
            var parser = ReplyParser(maximumReplyLength: 256)
            var buffer = ByteBuffer()
            let length = Int.random(in: 0..<200, using: &rng)
            var bytes: [UInt8] = []
            for _ in 0..<length { bytes.append(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]) }
            var index = 0
            while index < bytes.count {
                let piece = Int.random(in: 1...8, using: &rng)
                buffer.writeBytes(bytes[index..<min(bytes.count, index + piece)])
                index += piece
                while parser.next(from: &buffer) != nil {}
            }
            #expect(buffer.readableBytes <= 256)
        }
    }
}
