import struct NIOCore.ByteBuffer

/// Cuts the server stream into replies, incrementally.
///
///     220 mx.example.org ESMTP                one-line reply
///     250-mx.example.org / 250-SIZE 0 / 250 8BITMIME    multi-line reply (returned once, whole)
///     250                                     no text (Postfix's smtp-sink ends EHLO with `250 `)
///
/// A reply is returned only when its last line (`ddd SP` or `ddd` alone) has arrived; it keeps the
/// server's exact bytes in `raw`. Lines ending in a bare LF are accepted and reported, and such a
/// reply loses `raw` so that the client receives it re-framed with CRLF. A line that does not start
/// with three digits is returned as `.malformed`. Memory is bounded by `maximumReplyLength`.
/// SeeAlso: RFC 5321 §4.2.1.
public struct ReplyParser: Sendable {
    public enum Item: Sendable {
        case reply(SMTPReply, bareLF: Bool)
        /// A line that is not a reply line (no code), with its raw bytes.
        case malformed(line: String, raw: ByteBuffer)
        /// The server sent more than `maximumReplyLength` octets without finishing a reply.
        case overlong(length: Int)
    }

    public var maximumReplyLength: Int
    public var maximumLines: Int
    /// Where the current (incomplete) line starts, relative to the buffer's reader index: every
    /// line before it is a complete continuation line of the reply being read.
    private var lineStart = 0
    /// How far the search for the current line's LF got.
    private var scanned = 0
    private var lineCount = 0

    public init(maximumReplyLength: Int = SMTPDefaults.maximumReplyLength, maximumLines: Int = 1024) {
        self.maximumReplyLength = maximumReplyLength
        self.maximumLines = maximumLines
    }

    public mutating func next(from buffer: inout ByteBuffer) -> Item? {
        let available = buffer.readableBytes
        while true {
            guard let lf = buffer.withUnsafeReadableBytes({ bytes -> Int? in
                var index = scanned
                while index < bytes.count {
                    if bytes[index] == SMTPGrammar.lf { return index }
                    index += 1
                }
                return nil
            }) else {
                if available >= maximumReplyLength {
                    reset()
                    buffer.moveReaderIndex(forwardBy: available)
                    return .overlong(length: available)
                }
                scanned = available
                return nil
            }
            let kind = classify(buffer, lineStart: lineStart, lf: lf)
            switch kind {
            case .malformed:
                if lineStart > 0 {
                    // A multi-line reply interrupted by a line without a code: hand the lines so
                    // far over as a reply, then this line on the next call.
                    return finishReply(&buffer, length: lineStart)
                }
                reset()
                let raw = buffer.readSlice(length: lf + 1)!
                let text = raw.withUnsafeReadableBytes { String(decoding: Self.trimLineEnd($0), as: UTF8.self) }
                return .malformed(line: text, raw: raw)
            case .continuation:
                lineCount += 1
                lineStart = lf + 1
                scanned = lf + 1
                if lineCount >= maximumLines || scanned >= maximumReplyLength {
                    reset()
                    buffer.moveReaderIndex(forwardBy: lf + 1)
                    return .overlong(length: lf + 1)
                }
            case .last:
                return finishReply(&buffer, length: lf + 1)
            }
        }
    }

    private enum LineKind { case continuation, last, malformed }

    private mutating func reset() {
        lineStart = 0
        scanned = 0
        lineCount = 0
    }

    private func classify(_ buffer: ByteBuffer, lineStart: Int, lf: Int) -> LineKind {
        buffer.withUnsafeReadableBytes { bytes in
            let length = lf - lineStart
            guard length >= 3, SMTPGrammar.parseReplyCode(bytes[lineStart], bytes[lineStart + 1], bytes[lineStart + 2]) != nil
            else { return .malformed }
            if length == 3 { return .last }
            let separator = bytes[lineStart + 3]
            if separator == UInt8(ascii: "-") { return .continuation }
            if separator == SMTPGrammar.space || separator == SMTPGrammar.cr { return .last }
            return .malformed
        }
    }

    private mutating func finishReply(_ buffer: inout ByteBuffer, length: Int) -> Item {
        reset()
        let raw = buffer.readSlice(length: length)!
        var lines: [String] = []
        var code = 0
        var bareLF = false
        raw.withUnsafeReadableBytes { bytes in
            var start = 0
            var index = 0
            while index < bytes.count {
                if bytes[index] == SMTPGrammar.lf {
                    let line = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                    if line.last != SMTPGrammar.cr { bareLF = true }
                    let content = Self.trimLineEnd(UnsafeRawBufferPointer(rebasing: bytes[start...index]))
                    if code == 0 { code = SMTPGrammar.parseReplyCode(content[0], content[1], content[2])! }
                    lines.append(content.count > 4 ? String(decoding: content[4...], as: UTF8.self) : "")
                    start = index + 1
                }
                index += 1
            }
        }
        return .reply(SMTPReply(code: code, lines: lines, raw: bareLF ? nil : raw), bareLF: bareLF)
    }

    /// The line without its LF or CRLF.
    static func trimLineEnd(_ line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var end = line.count
        if end > 0, line[end - 1] == SMTPGrammar.lf { end -= 1 }
        if end > 0, line[end - 1] == SMTPGrammar.cr { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: line[0..<end])
    }
}

extension SMTPGrammar {
    /// `Reply-code = %x32-35 %x30-35 %x30-39` (RFC 5321 §4.2), read leniently as three digits.
    static func parseReplyCode(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Int? {
        guard (0x30...0x39).contains(a), (0x30...0x39).contains(b), (0x30...0x39).contains(c) else { return nil }
        return Int(a - 0x30) * 100 + Int(b - 0x30) * 10 + Int(c - 0x30)
    }
}
