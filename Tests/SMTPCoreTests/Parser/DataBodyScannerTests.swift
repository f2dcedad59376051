import NIOCore
import SMTPCore
import Testing

@Suite struct DataBodyScannerTests {
    struct Outcome: Equatable {
        var forwarded: String
        var ended: Bool
        var rest: String
        var violations: [DataBodyScanner.Violation]
    }

    /// Scans `body` in one piece, then byte by byte: both must agree.
    static func scan(_ body: String, policy: BareNewlinePolicy = .normalize) -> Outcome {
        let whole = scanPieces([Array(body.utf8)], policy: policy)
        let bytes = Array(body.utf8).map { [$0] }
        let drip = scanPieces(bytes, policy: policy)
        #expect(whole == drip, "segmentation changed the outcome of \(body.debugDescription)")
        return whole
    }

    static func scanPieces(_ pieces: [[UInt8]], policy: BareNewlinePolicy) -> Outcome {
        var scanner = DataBodyScanner(policy: policy)
        var forwarded: [UInt8] = []
        var violations: [DataBodyScanner.Violation] = []
        var rest: [UInt8] = []
        var ended = false
        var rejected = false
        for piece in pieces {
            if rejected { break }
            if ended {
                rest += piece
                continue
            }
            var buffer = ByteBuffer(bytes: piece)
            let outcome = scanner.scan(&buffer, emit: { forwarded += $0.readableBytesView }, report: { violations.append($0) })
            switch outcome {
            case .needMore: break
            case .endOfData:
                ended = true
                rest += buffer.readableBytesView
            case .rejected:
                // What follows a rejection is never read: the session is closed.
                ended = true
                rejected = true
            }
        }
        return Outcome(
            forwarded: String(decoding: forwarded, as: UTF8.self), ended: ended,
            rest: String(decoding: rest, as: UTF8.self), violations: violations)
    }

    /// The line scan reads 32 octets a round, as four words: a CR, LF, NUL or TAB at every offset
    /// in and around a round gives the same outcome as the byte-by-byte scan (`scan` compares both).
    @Test(arguments: ["\r\n", "\n", "\r", "\0", "\t", "\u{0B}", "\u{0E}", "\u{FF}"])
    func wordScanFindsLineEndsAtEveryOffset(special: String) {
        for offset in 0..<72 {
            let body = String(repeating: "x", count: offset) + special + String(repeating: "y", count: 19) + "\r\n.\r\n"
            let outcome = Self.scan(body)
            #expect(outcome.ended)
            let expected: String
            switch special {
            case "\n", "\r": expected = "\r\n"
            case "\0": expected = " "
            default: expected = special
            }
            #expect(
                outcome.forwarded == String(repeating: "x", count: offset) + expected + String(repeating: "y", count: 19) + "\r\n.\r\n")
        }
    }

    /// The scan jumps to the first octet below 0x0E in a round; a TAB, VT or FF there resumes it
    /// right after. A line end anywhere after such an octet, in the same round or the next, is
    /// still found.
    @Test(arguments: ["\r\n", "\n", "\r", "\0"])
    func lineEndAfterATabInTheSameRound(special: String) {
        let expected = special == "\0" ? " " : "\r\n"
        for tabOffset in 0..<36 {
            for gap in 0..<36 {
                let head = String(repeating: "x", count: tabOffset) + "\t\u{0C}" + String(repeating: "y", count: gap)
                let outcome = Self.scan(head + special + "z\r\n.\r\n")
                #expect(outcome.ended)
                #expect(outcome.forwarded == head + expected + "z\r\n.\r\n")
            }
        }
    }

    @Test func canonicalBodyPassesByteForByte() {
        let body = "Subject: hi\r\n\r\n..leading dot stuffed\r\n.x\r\nlast\r\n.\r\nMAIL FROM:<a@b>\r\n"
        let outcome = Self.scan(body)
        #expect(outcome.forwarded == "Subject: hi\r\n\r\n..leading dot stuffed\r\n.x\r\nlast\r\n.\r\n")
        #expect(outcome.ended)
        #expect(outcome.rest == "MAIL FROM:<a@b>\r\n")
        #expect(outcome.violations.isEmpty)
    }

    @Test func emptyMessageEndsAtOnce() {
        let outcome = Self.scan(".\r\nQUIT\r\n")
        #expect(outcome.forwarded == ".\r\n")
        #expect(outcome.ended)
        #expect(outcome.rest == "QUIT\r\n")
    }

    /// Every sequence of THREATS.md: none ends the data, each is forwarded so that no receiver
    /// can find an end of data in it, and the real end of data still works afterwards.
    @Test(arguments: [
        ("\n.\n", "\r\n..\r\n"),
        ("\n.\r", "\r\n..\r\n"),
        ("\r.\n", "\r\n..\r\n"),
        ("\r.\r", "\r\n..\r\n"),
        ("\n.\r\n", "\r\n..\r\n"),
        ("\r.\r\n", "\r\n..\r\n"),
        ("\r\n\u{0}.\r\n", "\r\n .\r\n"),
        ("\r\n.\r\r\n", "\r\n..\r\n\r\n"),
        ("\r\r\n.\r\r\n", "\r\n\r\n..\r\n\r\n"),
        ("\r\n.\n", "\r\n..\r\n"),
        ("\r\n.\r", "\r\n..\r\n"),
    ])
    func smugglingSequenceIsNeutralised(sequence: String, expected: String) {
        let body = "text" + sequence + "MAIL FROM:<evil@x>\r\n\r\n.\r\n"
        let outcome = Self.scan(body)
        #expect(outcome.ended)
        #expect(outcome.rest.isEmpty)
        #expect(outcome.forwarded == "text" + expected + "MAIL FROM:<evil@x>\r\n\r\n.\r\n")
        // The only CRLF.CRLF in what was forwarded is the real end.
        #expect(outcome.forwarded.utf8.count - Array("\r\n.\r\n".utf8).count == Self.firstEndOfData(outcome.forwarded))
        #expect(!outcome.violations.isEmpty)
    }

    @Test(arguments: ["\n.\n", "\r.\r", "\n.\r\n", "\r\n\u{0}.\r\n", "\r\n.\n", "a\nb", "a\rb", "a\u{0}b"])
    func rejectPolicyStopsAtFirstViolation(sequence: String) {
        let outcome = Self.scan("text" + sequence + "more\r\n.\r\n", policy: .reject)
        #expect(outcome.ended)
        guard case .some = outcome.violations.first else {
            Issue.record("no violation reported")
            return
        }
        #expect(!outcome.forwarded.contains(".\r\n"))
    }

    @Test func loneDotAfterBareLineEndIsReportedAsSmuggling() {
        let outcome = Self.scan("a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n")
        #expect(outcome.violations.contains(.smuggling(before: "<LF>", after: "<CR><LF>")))
        #expect(outcome.violations.contains(.bareLF))
    }

    @Test func sizeExcludesTheFinalDot() {
        var scanner = DataBodyScanner(policy: .normalize)
        var buffer = ByteBuffer(string: "abc\r\n.\r\n")
        _ = scanner.scan(&buffer, emit: { _ in }, report: { _ in })
        #expect(scanner.messageSize == 5)
    }

    static func firstEndOfData(_ text: String) -> Int {
        let bytes = Array(text.utf8)
        let pattern = Array("\r\n.\r\n".utf8)
        for start in 0...(bytes.count - pattern.count) where Array(bytes[start..<(start + pattern.count)]) == pattern {
            return start
        }
        return -1
    }
}
