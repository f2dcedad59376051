import NIOCore

/// Turns DATA content as it travels (dot-stuffed, RFC 5321 §4.5.2) back into the message a milter
/// reads and a `MessageSpool` holds: the first `.` of every line that starts with one is removed.
/// Chunks may split lines anywhere; the end-of-data line (`.CRLF`) must not be fed.
///
///     var unstuffer = DotUnstuffer()
///     try spool.append(unstuffer.unstuff(chunk))   // "..dot\r\n" → ".dot\r\n"
public struct DotUnstuffer: Sendable {
    private var atLineStart = true

    public init() {}

    public mutating func unstuff(_ chunk: ByteBuffer) -> ByteBuffer {
        let view = chunk.readableBytesView
        guard !view.isEmpty else { return chunk }
        var out = ByteBuffer()
        out.reserveCapacity(chunk.readableBytes)
        var start = view.startIndex
        if atLineStart && view.first == UInt8(ascii: ".") { start += 1 }
        var search = view.startIndex
        while let lineFeed = view[search...].firstIndex(of: UInt8(ascii: "\n")) {
            let next = lineFeed + 1
            if next < view.endIndex && view[next] == UInt8(ascii: ".") {
                out.writeBytes(view[start..<next])
                start = next + 1
            }
            search = next
            if search == view.endIndex { break }
        }
        if start < view.endIndex { out.writeBytes(view[start...]) }
        atLineStart = view.last == UInt8(ascii: "\n")
        return out
    }
}
