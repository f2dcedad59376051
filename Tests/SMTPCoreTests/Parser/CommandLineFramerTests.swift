import NIOCore
import SMTPCore
import Testing

@Suite struct CommandLineFramerTests {
    @Test func splitsLinesAndKeepsIncompleteOnes() {
        var framer = CommandLineFramer(maximumLength: 100)
        var buffer = ByteBuffer(string: "EHLO a\r\nMAIL FROM:<x@y>\r\nRCPT")
        guard case .line(let first) = framer.next(from: &buffer) else { Issue.record("no line"); return }
        #expect(String(buffer: first.raw) == "EHLO a\r\n")
        #expect(first.isCanonical)
        guard case .line(let second) = framer.next(from: &buffer) else { Issue.record("no line"); return }
        #expect(String(buffer: second.content) == "MAIL FROM:<x@y>")
        #expect(framer.next(from: &buffer) == nil)
        #expect(String(buffer: buffer) == "RCPT")
        buffer.writeString(" TO:<z@y>\r\n")
        guard case .line(let third) = framer.next(from: &buffer) else { Issue.record("no line"); return }
        #expect(String(buffer: third.content) == "RCPT TO:<z@y>")
    }

    @Test func reportsBareLineEndsAndNUL() {
        var framer = CommandLineFramer(maximumLength: 100)
        var buffer = ByteBuffer(string: "NOOP\nVRFY a\rb\r\nX\u{0}Y\r\n")
        guard case .line(let lf) = framer.next(from: &buffer), case .line(let cr) = framer.next(from: &buffer),
            case .line(let nul) = framer.next(from: &buffer)
        else { Issue.record("missing lines"); return }
        #expect(lf.terminator == .bareLF && !lf.isCanonical)
        #expect(cr.containsBareCR && cr.terminator == .crlf)
        #expect(nul.containsNUL)
    }

    @Test func overlongLineIsDroppedWithBoundedMemory() {
        var framer = CommandLineFramer(maximumLength: 64)
        var frames: [CommandLineFramer.Frame] = []
        for _ in 0..<1000 {
            var chunk = ByteBuffer(string: String(repeating: "A", count: 1000))
            if let frame = framer.next(from: &chunk) { frames.append(frame) }
            #expect(chunk.readableBytes == 0)
        }
        var end = ByteBuffer(string: "AAAA\r\nNOOP\r\n")
        guard case .overlong(let length) = framer.next(from: &end) else { Issue.record("no overlong frame"); return }
        #expect(length == 1_000_006)
        guard case .line(let next) = framer.next(from: &end) else { Issue.record("no line after"); return }
        #expect(String(buffer: next.raw) == "NOOP\r\n")
        #expect(frames.isEmpty)
    }
}
