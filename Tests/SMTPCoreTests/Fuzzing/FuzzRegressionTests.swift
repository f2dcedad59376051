import NIOCore
import SMTPCore
import Testing

/// Inputs the fuzz targets (`Fuzzing/`) crashed on, fed through the same code paths: each must run
/// without a trap and give sane results.
@Suite struct FuzzRegressionTests {
    /// FuzzCommandParser, crash-b90fe256…: with a 3-octet limit, an overlong line and every line
    /// after it in the same read were dropped as one overlong frame; read in pieces, the later lines
    /// came out. The framer now drops an overlong line only up to its LF.
    static let overlongThenLines: [UInt8] = [
        0x00, 0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x03, 0x0e, 0x30, 0x31, 0x30, 0x2e, 0x30, 0x30, 0x30, 0x2e, 0x30,
        0x30, 0x2e, 0x30, 0x30, 0x33, 0x00, 0x19, 0x45, 0x48, 0x4c, 0x4f, 0x20, 0x55, 0x73, 0x65, 0x72, 0x0d, 0x0a,
        0x41, 0x55, 0x54, 0x06, 0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x03, 0x0e, 0x30, 0x31, 0x30,
        0x2e, 0x30, 0x30, 0x30, 0x2e, 0x30, 0x30, 0x2e, 0x30, 0x30, 0x33, 0x00, 0x19, 0x45, 0x48, 0x4c, 0x4f, 0x20,
        0x55, 0x73, 0x65, 0x72, 0x0d, 0x0a, 0x41, 0x55, 0x54, 0x48, 0x20, 0x4c, 0xcb, 0xb3, 0x49, 0x4e, 0x0d, 0x0a,
    ]

    enum Frame: Equatable {
        case line(String)
        case overlong(Int)
    }

    static func frames(_ pieces: [[UInt8]], maximumLength: Int) -> [Frame] {
        var framer = CommandLineFramer(maximumLength: maximumLength)
        var buffer = ByteBuffer()
        var frames: [Frame] = []
        for piece in pieces {
            buffer.writeBytes(piece)
            while let frame = framer.next(from: &buffer) {
                switch frame {
                case .line(let line): frames.append(.line(String(buffer: line.raw)))
                case .overlong(let length): frames.append(.overlong(length))
                }
            }
            #expect(buffer.readableBytes < maximumLength)
        }
        return frames
    }

    @Test func overlongLineDoesNotSwallowTheLinesAfterIt() {
        let bytes = Self.overlongThenLines
        let whole = Self.frames([bytes], maximumLength: 3)
        #expect(whole == Self.frames(bytes.map { [$0] }, maximumLength: 3))
        #expect(whole == [.overlong(36), .overlong(42), .overlong(12)])
        #expect(Self.frames([Array("AAAAAAAA\r\nNOOP\r\nQUIT\r\n".utf8)], maximumLength: 7)
            == [.overlong(10), .line("NOOP\r\n"), .line("QUIT\r\n")])
    }

    /// The same through the engine: a command after an overlong one in the same read is answered
    /// and forwarded, as when it comes in a read of its own.
    @Test func engineAnswersTheCommandAfterAnOverlongLineInTheSameRead() {
        let long = String(repeating: "A", count: SMTPDefaults.maximumCommandLineLength + 10)
        var whole = EngineHarness()
        whole.server("220 mx ESMTP\r\n")
        whole.client(long + "\r\nNOOP\r\n")
        whole.server("250 ok\r\n")
        var split = EngineHarness()
        split.server("220 mx ESMTP\r\n")
        split.client(long + "\r\n")
        split.client("NOOP\r\n")
        split.server("250 ok\r\n")
        #expect(whole.takeToServer() == "NOOP\r\n")
        #expect(whole.toClient == split.toClient)
        #expect(whole.replyEvents.map(\.code) == [220, 500, 250])
    }

    /// FuzzReplyParser, seed `multiline-bare-lf`: the parser reads any three digits as a code, and
    /// a reply re-framed for a bare LF was encoded with the code unpadded ("0 x"), a line that is
    /// not a reply.
    @Test func shortCodeIsEncodedWithThreeDigits() {
        var parser = ReplyParser()
        var buffer = ByteBuffer(string: "000 x\n042-a\r\n042 b\n")
        guard case .reply(let first, bareLF: true) = parser.next(from: &buffer),
            case .reply(let second, bareLF: true) = parser.next(from: &buffer)
        else { Issue.record("no replies"); return }
        #expect(String(buffer: first.wireBytes) == "000 x\r\n")
        #expect(String(buffer: second.wireBytes) == "042-a\r\n042 b\r\n")
        var h = EngineHarness()
        h.server("007 odd greeting\n")
        #expect(h.takeToClient() == "007 odd greeting\r\n")
    }

    /// FuzzCommandParser, crash-a9774138…: `MAIL FROM:\u{FFFD}<bob@example.com>` (a path without
    /// brackets that holds some) was canonicalised to `FROM:<\u{FFFD}<bob@example.com>>`, which
    /// reads back as another path plus a parameter `>`: rules matched a form that is not a fixed
    /// point. Such a path is no longer read as a mail argument; rules see the argument as sent.
    /// crash-2e10a098…: `RCPT TO:      "Test Member" <name-addr@example.com>;, …` read the path as
    /// `"Test`; bracketed, the quote then hid the `>`. An unbracketed path may not hold a quote either.
    @Test(arguments: [
        "FROM:\u{FFFD}<bob@example.com>", "FROM:x<a@evil.example>", "TO:a>b", "FROM: <a@b>> SIZE=1",
        "TO:      \"Test Member\" <name-addr@example.com>;, jan.grashofer@cern.ch", "TO:\"Test> Member\" <a@b>",
    ])
    func canonicalArgumentIsAFixedPoint(_ argument: String) {
        let command = SMTPGrammar.parseCommandLine(ByteBuffer(string: (argument.hasPrefix("TO") ? "RCPT " : "MAIL ") + argument))
        let canonical = command.canonicalArgument
        #expect(SMTPCommand(verb: command.verb, argument: canonical).canonicalArgument == canonical)
    }

    @Test func unbracketedPathWithBracketsIsNotAMailArgument() {
        #expect(MailTransactionArgument(parsing: "FROM:x<a@evil.example>", keyword: "FROM") == nil)
        #expect(SMTPCommand(verb: .mail, argument: "FROM:x<a@evil.example>").canonicalArgument == "FROM:x<a@evil.example>")
        #expect(MailTransactionArgument(parsing: "from:a@b size=10", keyword: "FROM")?.canonical == "FROM:<a@b> SIZE=10")
    }

    /// FuzzEngine, crash-ae24d905… and crash-da586acb… (the hostile rule set, max-message-size
    /// 300): whether a bare CR after the limit was reported before or after `message-too-large`,
    /// and how much of the content reached the upstream before it was aborted, depended on how the
    /// content was cut. Now the anomalies follow the stream and the upstream gets exactly the
    /// first 303 octets (limit + ".\r\n") before it is closed.
    @Test func tooLargeMessageIsSegmentationIndependent() {
        let policy = TestPolicy(settings: PolicySettings(maxMessageSize: 300))
        let body = Array(String(repeating: "0123456789abcdef\r\n", count: 20).utf8) + Array("late\rCR\r\n.\r\n".utf8)
        func run(_ pieces: [[UInt8]]) -> EngineHarness {
            var h = EngineHarness(policy: policy)
            h.server("220 mx ESMTP\r\n")
            h.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
            h.server("250 ok\r\n250 ok\r\n354 go\r\n")
            _ = h.takeToServer()
            for piece in pieces { h.client(piece) }
            h.server("250 queued\r\n")
            h.finish()
            return h
        }
        let whole = run([body])
        let bytewise = run(body.map { [$0] })
        #expect(whole.toServer == bytewise.toServer)
        #expect(whole.toServer.count == 303)
        #expect(whole.closeServer)
        #expect(whole.events.map(\.kind) == bytewise.events.map(\.kind))
        #expect(whole.anomalyKinds.filter { $0 == "message-too-large" || $0 == "bare-cr" } == ["message-too-large", "bare-cr"])
    }
}
