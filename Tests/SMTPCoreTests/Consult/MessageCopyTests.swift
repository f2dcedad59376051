import NIOCore
import SMTPCore
import Testing

/// `copiesMessages` (replay with milters): DATA streams upstream unchanged while an unstuffed copy
/// goes to the driver, each message's copy starting with `discardHeldContent`.
@Suite struct MessageCopyTests {
    @Test(arguments: [1, 3, 1000])
    func eachMessageStreamsAndIsCopiedWithoutItsDotStuffing(segment: Int) {
        var h = EngineHarness(consultStages: [.endOfMessage], copiesMessages: true)
        h.server("220 mx.example ESMTP\r\n")
        h.client("HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
        h.server("250 mx\r\n250 Ok\r\n250 Ok\r\n354 go\r\n")
        _ = h.takeToServer()
        let body = Array("Subject: one\r\n\r\n..dot\r\nbody\r\n.\r\n".utf8)
        for start in stride(from: 0, to: body.count, by: segment) { h.client(Array(body[start..<min(start + segment, body.count)])) }
        // Upstream: the content byte for byte, its end of data withheld for the verdict.
        #expect(h.takeToServer() == "Subject: one\r\n\r\n..dot\r\nbody\r\n")
        #expect(h.held == "Subject: one\r\n\r\n.dot\r\nbody\r\n")
        #expect(h.discards == 1)
        h.decide()
        #expect(h.takeToServer() == ".\r\n")
        h.server("250 queued\r\n")
        h.held = ""
        h.client("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
        h.server("250 Ok\r\n250 Ok\r\n354 go\r\n")
        h.client("Subject: two\r\n\r\n.\r\n")
        #expect(h.discards == 2)
        #expect(h.held == "Subject: two\r\n\r\n")
        #expect(h.consults.count == 1)
    }
}
