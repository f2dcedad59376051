import struct NIOCore.ByteBuffer

/// Cuts the client stream into command lines, incrementally, without ever holding more than one
/// line (bounded by `maximumLength`).
///
/// A line ends at LF. `CRLF` is the standard ending; a bare LF ending and a CR or NUL inside the
/// line are reported on the frame so the engine can apply the `bare-newline` policy. A line longer
/// than `maximumLength` (octets, line end included) is never returned: its bytes are dropped as
/// they arrive and one `.overlong` frame is returned when its end is finally read, so memory stays
/// bounded whatever the client sends. SeeAlso: RFC 5321 §2.3.8, §4.5.3.1.4.
public struct CommandLineFramer: Sendable {
    public enum Terminator: Hashable, Sendable {
        case crlf
        case bareLF
    }

    /// One complete command line.
    public struct Line: Sendable {
        /// The line exactly as received, line end included (a slice of the input, not a copy).
        public var raw: ByteBuffer
        /// Octets before the line end.
        public var contentLength: Int
        public var terminator: Terminator
        /// A CR that is not part of the final CRLF.
        public var containsBareCR: Bool
        public var containsNUL: Bool

        public var content: ByteBuffer {
            raw.getSlice(at: raw.readerIndex, length: contentLength)!
        }

        public var isCanonical: Bool { terminator == .crlf && !containsBareCR && !containsNUL }
    }

    public enum Frame: Sendable {
        case line(Line)
        /// A line longer than the limit ended; `length` octets were dropped.
        case overlong(length: Int)
    }

    public var maximumLength: Int
    private var scanned = 0
    private var discarded: Int?

    public init(maximumLength: Int) {
        precondition(maximumLength >= 2)
        self.maximumLength = maximumLength
    }

    /// Octets of the current incomplete line already consumed or waiting in the buffer.
    public var isMidLine: Bool { scanned > 0 || discarded != nil }

    /// Returns the next frame, or nil when more bytes are needed. Consumes what it returns (and the
    /// bytes of an overlong line); leaves an incomplete line in `buffer`.
    public mutating func next(from buffer: inout ByteBuffer) -> Frame? {
        if let dropped = discarded {
            if let lf = Self.firstLF(in: buffer, from: 0, limit: buffer.readableBytes) {
                buffer.moveReaderIndex(forwardBy: lf + 1)
                discarded = nil
                return .overlong(length: dropped + lf + 1)
            }
            discarded = dropped + buffer.readableBytes
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return nil
        }
        let limit = min(buffer.readableBytes, maximumLength)
        if let lf = Self.firstLF(in: buffer, from: scanned, limit: limit) {
            scanned = 0
            let raw = buffer.readSlice(length: lf + 1)!
            return .line(Self.describe(raw))
        }
        if buffer.readableBytes >= maximumLength {
            // Too long: drop it up to its LF, which may already be in the buffer past the limit
            // (the lines after it must not be dropped with it).
            scanned = 0
            discarded = 0
            return next(from: &buffer)
        }
        scanned = buffer.readableBytes
        return nil
    }

    private static func firstLF(in buffer: ByteBuffer, from start: Int, limit: Int) -> Int? {
        guard start < limit else { return nil }
        return buffer.withUnsafeReadableBytes { bytes in
            var index = start
            while index < limit {
                if bytes[index] == SMTPGrammar.lf { return index }
                index += 1
            }
            return nil
        }
    }

    private static func describe(_ raw: ByteBuffer) -> Line {
        raw.withUnsafeReadableBytes { bytes in
            let count = bytes.count
            let crlf = count >= 2 && bytes[count - 2] == SMTPGrammar.cr
            let contentLength = crlf ? count - 2 : count - 1
            var bareCR = false
            var nul = false
            for index in 0..<contentLength {
                let byte = bytes[index]
                if byte == SMTPGrammar.cr { bareCR = true } else if byte == SMTPGrammar.nul { nul = true }
            }
            return Line(
                raw: raw,
                contentLength: contentLength,
                terminator: crlf ? .crlf : .bareLF,
                containsBareCR: bareCR,
                containsNUL: nul
            )
        }
    }
}
