import struct NIOCore.ByteBuffer

/// A server reply: a three-digit code and one or more lines of text.
///
///     250-mx.example.org
///     250-PIPELINING
///     250 CHUNKING
///
/// `raw` holds the bytes exactly as the server sent them (nil for replies the proxy makes itself);
/// `encoded` is the canonical form. SeeAlso: RFC 5321 §4.2, RFC 3463 (enhanced status codes).
public struct SMTPReply: Hashable, Sendable {
    public var code: Int
    /// The text of each line, after the code and its `-`/SP separator.
    public var lines: [String]
    public var raw: ByteBuffer?

    public init(code: Int, lines: [String], raw: ByteBuffer? = nil) {
        precondition(!lines.isEmpty)
        self.code = code
        self.lines = lines
        self.raw = raw
    }

    /// A one-line reply made by the proxy: `SMTPReply(code: 502, "5.5.1 VRFY is disabled")`.
    public init(code: Int, _ text: String) {
        self.init(code: code, lines: [text])
    }

    /// Parses `"502 5.5.1 Not here"` (one line, as written in rule files). Nil unless it starts with
    /// a code in 200…599 followed by a space or the end.
    public init?(parsing line: String) {
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, let code = SMTPGrammar.parseReplyCode(bytes[0], bytes[1], bytes[2]),
            (200...599).contains(code), bytes.count == 3 || bytes[3] == SMTPGrammar.space
        else { return nil }
        self.init(code: code, bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
    }

    /// The text of the first line.
    public var text: String { lines[0] }

    /// `2`, `3`, `4` or `5`.
    public var codeClass: Int { code / 100 }
    public var isPositive: Bool { code >= 200 && code < 400 }

    /// `5.7.1` when the first line starts with an RFC 3463 enhanced status code.
    public var enhancedStatusCode: String? {
        let first = text.utf8.prefix { $0 != SMTPGrammar.space }
        let parts = first.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, let cls = parts.first, cls.count == 1, [UInt8(ascii: "2"), UInt8(ascii: "4"),
            UInt8(ascii: "5")].contains(cls.first!),
            parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } })
        else { return nil }
        return String(decoding: first, as: UTF8.self)
    }

    /// `250-a` … `250 z` with CRLF line ends.
    public var encoded: ByteBuffer {
        var out = ByteBuffer()
        // Always three digits: the reply parser accepts any (`000`…`099` too), and a code written
        // short ("0 x") would reach the client as a line that is not a reply.
        let codeText = code < 100 ? String(String(code + 1000).dropFirst()) : String(code)
        for (index, line) in lines.enumerated() {
            out.writeString(codeText)
            out.writeString(index == lines.count - 1 ? " " : "-")
            out.writeString(line)
            out.writeString("\r\n")
        }
        return out
    }

    /// What goes to the client: the server's bytes when untouched, else the canonical encoding.
    public var wireBytes: ByteBuffer { raw ?? encoded }

    public static func == (lhs: SMTPReply, rhs: SMTPReply) -> Bool {
        lhs.code == rhs.code && lhs.lines == rhs.lines
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(lines)
    }
}
