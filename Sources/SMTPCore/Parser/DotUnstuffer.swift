import struct NIOCore.ByteBuffer

/// Turns DATA content as it travels (dot-stuffed, RFC 5321 §4.5.2) back into the message itself:
/// the first `.` of every line that starts with one is removed. Chunks may split lines anywhere;
/// the end of data (`.CRLF`) must not be fed. What comes out are zero-copy slices of the input.
///
///     var unstuffer = DotUnstuffer()
///     unstuffer.unstuff(chunk) { try? spool.append($0) }   // "..dot\r\n" → ".dot\r\n"
///
/// The engine uses it for held messages (`holdContent`); a line start is what the content the
/// `DataBodyScanner` emits says it is (after its line-end normalisation, a `.` at a line start is
/// always a stuffed one).
public struct DotUnstuffer: Sendable {
    /// The next octet fed starts a line.
    public private(set) var atLineStart: Bool

    public init(atLineStart: Bool = true) {
        self.atLineStart = atLineStart
    }

    /// Hands `emit` the parts of `chunk` between stuffed dots, in order (nothing for an empty part).
    /// One pass, no allocation: a part is emitted when the dot after it is found.
    public mutating func unstuff(_ chunk: ByteBuffer, emit: (ByteBuffer) -> Void) {
        var segmentStart = 0
        var lineStart = atLineStart
        chunk.withUnsafeReadableBytes { raw in
            for index in 0..<raw.count {
                if lineStart && raw[index] == UInt8(ascii: ".") {
                    if index > segmentStart { emit(chunk.getSlice(at: chunk.readerIndex + segmentStart, length: index - segmentStart)!) }
                    segmentStart = index + 1
                }
                lineStart = raw[index] == SMTPGrammar.lf
            }
        }
        atLineStart = lineStart
        if chunk.readableBytes > segmentStart {
            emit(chunk.getSlice(at: chunk.readerIndex + segmentStart, length: chunk.readableBytes - segmentStart)!)
        }
    }
}
