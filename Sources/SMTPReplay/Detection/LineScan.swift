/// The first line of a byte prefix, as the detector needs it.
enum LineScan: Equatable {
    /// No line end yet, and more bytes may come.
    case incomplete
    /// A line (without its CR/LF) at this range of the prefix.
    case line(Range<Int>)
    /// No line end within the first `limit` bytes (binary, or not line-based at all).
    case none

    /// Finds the first line at or after `start` within `limit` bytes.
    static func first(in bytes: UnsafeRawBufferPointer, from start: Int, limit: Int = 1024, ended: Bool) -> LineScan {
        guard start <= bytes.count else { return ended ? .none : .incomplete }
        let end = min(bytes.count, start + limit)
        var index = start
        while index < end {
            if bytes[index] == 0x0A {
                var lineEnd = index
                if lineEnd > start, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                return .line(start..<lineEnd)
            }
            index += 1
        }
        if bytes.count - start >= limit { return .none }
        if ended {
            // The direction ended without a line end: its last line is all there is.
            return bytes.count > start ? .line(start..<bytes.count) : .none
        }
        return .incomplete
    }
}
