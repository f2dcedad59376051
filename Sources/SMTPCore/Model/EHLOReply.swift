/// The model of a successful EHLO reply: the greeting line and the keywords that follow.
///
///     250-mx.example.org Hello
///     250-SIZE 10240000
///     250-AUTH PLAIN LOGIN
///     250-AUTH=PLAIN LOGIN          (the pre-RFC 2554 form, same keyword)
///     250 CHUNKING
///
/// SeeAlso: RFC 5321 §4.1.1.1 (`ehlo-ok-rsp`), RFC 1870 (SIZE), RFC 4954 (AUTH).
public struct EHLOReply: Hashable, Sendable {
    public struct Keyword: Hashable, Sendable {
        /// Upper case, without parameters: `SIZE`, `AUTH`, `X-EXCH50`.
        public var name: String
        public var parameters: [String]
        /// The line's text as the server sent it.
        public var text: String

        public init(text: String) {
            self.text = text
            let bytes = Array(text.utf8)
            let end = bytes.firstIndex { $0 == SMTPGrammar.space || $0 == UInt8(ascii: "=") } ?? bytes.count
            name = SMTPVerb.uppercased(String(decoding: bytes[..<end], as: UTF8.self))
            parameters = end < bytes.count ? SMTPGrammar.words(String(decoding: bytes[(end + 1)...], as: UTF8.self)) : []
        }
    }

    public var code: Int
    public var greeting: String
    public var keywords: [Keyword]

    public init(_ reply: SMTPReply) {
        code = reply.code
        greeting = reply.lines[0]
        keywords = reply.lines.dropFirst().map(Keyword.init(text:))
    }

    public func keyword(_ name: String) -> Keyword? {
        keywords.first { $0.name == name }
    }

    /// The advertised `SIZE` limit (0 means none), when present and numeric.
    public var sizeLimit: Int? {
        keyword("SIZE").flatMap { $0.parameters.first.flatMap { SMTPGrammar.parseDecimal($0, maximum: Int.max) } }
    }

    /// The mechanisms of every AUTH line, both `AUTH x` and `AUTH=x` forms.
    public var authMechanisms: [String] {
        keywords.filter { $0.name == "AUTH" }.flatMap { $0.parameters.map(SMTPVerb.uppercased) }
    }

    /// The reply re-framed: `250-` on every line but the last, `250 ` on the last.
    public var reply: SMTPReply {
        SMTPReply(code: code, lines: [greeting] + keywords.map(\.text))
    }
}
