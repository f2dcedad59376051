import SMTPCore

/// One server reply as the resend compares it: its code and its first line.
///
///     250-upstream.test / 250-PIPELINING / 250 CHUNKING   → code 250, text "upstream.test", lines 3
///     a line without a code (`hello`)                     → code nil, text "hello"
///
/// Only codes are compared (texts carry queue ids, host names and dates that differ every run);
/// the text is kept to show the operator what each side said.
public struct ResendReply: Hashable, Sendable, CustomStringConvertible {
    /// The reply code; nil for a line that is not a reply (or a reply that never ended).
    public var code: Int?
    /// The first line's text, at most `maximumTextLength` characters.
    public var text: String
    /// Lines in the reply (a multi-line EHLO reply has several).
    public var lineCount: Int

    public static let maximumTextLength = 200

    public init(code: Int?, text: String, lineCount: Int = 1) {
        self.code = code
        self.text = text.count > Self.maximumTextLength ? String(text.prefix(Self.maximumTextLength - 1)) + "…" : text
        self.lineCount = lineCount
    }

    /// What `ReplyParser` read.
    public init(_ item: ReplyParser.Item) {
        switch item {
        case .reply(let reply, _):
            self.init(code: reply.code, text: reply.text, lineCount: reply.lines.count)
        case .malformed(let line, _):
            self.init(code: nil, text: line)
        case .overlong(let length):
            self.init(code: nil, text: "(\(length) octets without the end of a reply)")
        }
    }

    /// `250 2.1.0 Ok`, `(no code) hello`.
    public var description: String {
        guard let code else { return "(no code) " + text }
        return text.isEmpty ? String(code) : "\(code) \(text)"
    }
}
