import NIOCore

/// A held message as milters see it and as it is forwarded: the header fields (parsed from the
/// spool, then edited by milters in turn), and the body, read from the spool or from a milter's
/// replacement, never loaded whole.
///
///     var message = try HeldMessage(spool: spool)
///     try message.apply(modifications, leadingSpace: false)   // one milter's answer
///     var content = message.content(dotStuffed: true)         // what goes upstream after DATA
///     while let chunk = try content.next() { … }
///
/// The header section ends at the first empty line, at the first line that is not a header field
/// or continuation, or after `maximumHeaderBytes` (what follows is body, as Postfix treats it).
public struct HeldMessage: Sendable {
    public static let maximumHeaderBytes = 1 << 20

    public let original: MessageSpool
    public internal(set) var headers: [MessageHeaderField]
    /// Where the body starts in `original` (after the empty separator line, if any).
    let bodyOffset: Int
    /// Whether the original had the empty line between header and body.
    let hasSeparator: Bool
    /// A milter's replacement body (CRLF line ends), when one was asked for.
    public internal(set) var replacementBody: MessageSpool?
    /// Whether any milter changed the header section or the body.
    public internal(set) var isModified = false

    public init(spool: MessageSpool) throws(MessageSpool.Failure) {
        original = spool
        var fields: [MessageHeaderField] = []
        var current: [UInt8] = []
        var line: [UInt8] = []
        var consumed = 0
        var separator = false
        var finished = false
        var chunks = spool.chunks()
        scanning: while let chunk = try chunks.next() {
            for byte in chunk.readableBytesView {
                line.append(byte)
                guard byte == UInt8(ascii: "\n") else { continue }
                let isEmpty = line.count <= 2 && (line.count == 1 || line[0] == UInt8(ascii: "\r"))
                let isContinuation = line[0] == UInt8(ascii: " ") || line[0] == UInt8(ascii: "\t")
                if isContinuation && !current.isEmpty {
                    current += line
                } else if !isEmpty && !isContinuation && Self.isFieldStart(line)
                    && consumed + current.count + line.count <= Self.maximumHeaderBytes
                {
                    if !current.isEmpty { fields.append(MessageHeaderField(raw: current)) }
                    consumed += current.count
                    current = line
                } else {
                    if !current.isEmpty { fields.append(MessageHeaderField(raw: current)) }
                    consumed += current.count
                    current = []
                    if isEmpty {
                        separator = true
                        consumed += line.count
                    }
                    finished = true
                    break scanning
                }
                line = []
            }
        }
        if !finished {
            // The message ended inside the header section (or without a final line end).
            if !current.isEmpty { fields.append(MessageHeaderField(raw: current)) }
            consumed += current.count
        }
        headers = fields
        bodyOffset = consumed
        hasSeparator = separator
    }

    /// `name:` with a name of printable ASCII other than the colon (blanks allowed before the
    /// colon, as Postfix's `is_header`).
    static func isFieldStart(_ line: [UInt8]) -> Bool {
        var index = 0
        while index < line.count, line[index] > 0x20, line[index] < 0x7F, line[index] != UInt8(ascii: ":") { index += 1 }
        guard index > 0 else { return false }
        while index < line.count, line[index] == UInt8(ascii: " ") || line[index] == UInt8(ascii: "\t") { index += 1 }
        return index < line.count && line[index] == UInt8(ascii: ":")
    }

    /// Whether reading the content involves no file (the original and any replacement body are
    /// in memory): a driver reads it on its event loop, else on a thread pool.
    public var isInMemory: Bool { original.filePath == nil && replacementBody?.filePath == nil }

    /// The body's size in octets.
    public var bodySize: Int { replacementBody?.size ?? (original.size - bodyOffset) }

    /// The size of `content()` without dot-stuffing.
    public var size: Int {
        guard isModified else { return original.size }
        let separator = hasSeparator || replacementBody != nil ? 2 : 0
        return headers.reduce(0) { $0 + $1.raw.count } + separator + bodySize
    }

    /// The body in chunks of at most 64 KiB, as milters receive it.
    public func bodyChunks(chunkSize: Int = MessageSpool.chunkSize) -> MessageSpool.Chunks {
        replacementBody?.chunks(chunkSize: chunkSize) ?? original.chunks(from: bodyOffset, chunkSize: chunkSize)
    }

    /// The message to forward, in chunks of at most 64 KiB: the original bytes when no milter
    /// changed it; `dotStuffed` doubles every `.` that starts a line (for DATA).
    public func content(dotStuffed: Bool = false) -> Content {
        Content(message: self, dotStuffed: dotStuffed)
    }

    /// Streams `HeldMessage.content(dotStuffed:)`.
    public struct Content: Sendable {
        let message: HeldMessage
        let dotStuffed: Bool
        private var headerBytes: ByteBuffer?
        private var body: MessageSpool.Chunks
        private var atLineStart = true

        init(message: HeldMessage, dotStuffed: Bool) {
            self.message = message
            self.dotStuffed = dotStuffed
            if message.isModified {
                var head = ByteBuffer()
                for field in message.headers { head.writeBytes(field.raw) }
                if message.hasSeparator || message.replacementBody != nil { head.writeString("\r\n") }
                headerBytes = head
                body = message.bodyChunks()
            } else {
                headerBytes = nil
                body = message.original.chunks()
            }
        }

        public mutating func next() throws(MessageSpool.Failure) -> ByteBuffer? {
            var chunk: ByteBuffer
            if var head = headerBytes, head.readableBytes > 0 {
                chunk = head.readSlice(length: min(head.readableBytes, MessageSpool.chunkSize))!
                headerBytes = head
            } else if let next = try body.next() {
                chunk = next
            } else {
                return nil
            }
            return dotStuffed ? stuff(chunk) : chunk
        }

        private mutating func stuff(_ chunk: ByteBuffer) -> ByteBuffer {
            let view = chunk.readableBytesView
            guard !view.isEmpty else { return chunk }
            var out = ByteBuffer()
            out.reserveCapacity(chunk.readableBytes + 16)
            if atLineStart && view.first == UInt8(ascii: ".") { out.writeInteger(UInt8(ascii: ".")) }
            var start = view.startIndex
            var search = view.startIndex
            while let lineFeed = view[search...].firstIndex(of: UInt8(ascii: "\n")) {
                let next = lineFeed + 1
                if next < view.endIndex && view[next] == UInt8(ascii: ".") {
                    out.writeBytes(view[start..<next])
                    out.writeInteger(UInt8(ascii: "."))
                    start = next
                }
                search = next
                if search == view.endIndex { break }
            }
            out.writeBytes(view[start...])
            atLineStart = view.last == UInt8(ascii: "\n")
            return out
        }
    }
}
