/// A command verb, always upper case. Known verbs are constants; any other token is kept verbatim
/// (upper-cased) so that rules and the audit log can still name it.
///
/// SeeAlso: RFC 5321 §4.1, RFC 3030 (BDAT), RFC 3207 (STARTTLS), RFC 4954 (AUTH), RFC 2645 (ATRN),
/// RFC 1985 (ETRN), Microsoft's [MS-OXSMTP] (XEXCH50, X-LINK2STATE, X-EXPS).
public struct SMTPVerb: Hashable, Sendable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) {
        self.name = Self.uppercased(name)
    }

    public var description: String { name }

    public static let helo = SMTPVerb(known: "HELO")
    public static let ehlo = SMTPVerb(known: "EHLO")
    public static let mail = SMTPVerb(known: "MAIL")
    public static let rcpt = SMTPVerb(known: "RCPT")
    public static let data = SMTPVerb(known: "DATA")
    public static let bdat = SMTPVerb(known: "BDAT")
    public static let rset = SMTPVerb(known: "RSET")
    public static let vrfy = SMTPVerb(known: "VRFY")
    public static let expn = SMTPVerb(known: "EXPN")
    public static let help = SMTPVerb(known: "HELP")
    public static let noop = SMTPVerb(known: "NOOP")
    public static let quit = SMTPVerb(known: "QUIT")
    public static let starttls = SMTPVerb(known: "STARTTLS")
    public static let auth = SMTPVerb(known: "AUTH")
    public static let turn = SMTPVerb(known: "TURN")
    public static let atrn = SMTPVerb(known: "ATRN")
    public static let etrn = SMTPVerb(known: "ETRN")
    public static let xexch50 = SMTPVerb(known: "XEXCH50")
    public static let xExch50 = SMTPVerb(known: "X-EXCH50")
    public static let xLink2State = SMTPVerb(known: "X-LINK2STATE")
    public static let xExps = SMTPVerb(known: "X-EXPS")

    /// Every verb the engine understands; anything else is reported as `unknown-command`.
    public static let known: Set<SMTPVerb> = [
        .helo, .ehlo, .mail, .rcpt, .data, .bdat, .rset, .vrfy, .expn, .help, .noop, .quit, .starttls,
        .auth, .turn, .atrn, .etrn, .xexch50, .xExch50, .xLink2State, .xExps,
    ]

    public var isKnown: Bool { Self.known.contains(self) }

    /// Pseudo-verbs used in the audit log for client lines that are not commands.
    public static let authResponse = SMTPVerb(known: "AUTH-RESPONSE")
    public static let endOfData = SMTPVerb(known: ".")

    private init(known: String) {
        self.name = known
    }

    static func uppercased(_ text: String) -> String {
        var needs = false
        for byte in text.utf8 where byte >= 0x61 && byte <= 0x7A {
            needs = true
            break
        }
        guard needs else { return text }
        return String(decoding: text.utf8.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }, as: UTF8.self)
    }
}
