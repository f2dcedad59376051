import SMTPCore

/// A policy server's answer (`action=...`), read as Postfix's access(5) reads it, and what the
/// proxy does with it (SPEC §11).
///
///     OK, DUNNO                 → go on
///     REJECT [text]             → 554 5.7.1 text
///     DEFER [text]              → 450 4.7.1 text
///     DEFER_IF_PERMIT [text]    → 450 4.7.1 text
///     (a text that starts with its own status code of the same class keeps it:
///      `DEFER_IF_PERMIT 4.2.0 Greylisted` → 450 4.2.0 Greylisted, as Postfix)
///     4NN text, 5NN text        → that reply
///     PREPEND name: value       → the header goes on top of the forwarded message
///     WARN text                 → logged (the `command` event's `policy` field)
///     HOLD, DISCARD, FILTER, REDIRECT, BCC, … → an `anomaly` `policy-unsupported`, then as DUNNO
public enum PolicyAnswer: Hashable, Sendable {
    case proceed
    case reply(SMTPReply)
    case prepend(header: String)
    case warn(String)
    /// Anything the proxy does not act on, with why.
    case unsupported(reason: String)

    /// The `action=` value (without `action=`) at `stage`.
    public init(action: String, stage: ConsultStage) {
        let (keyword, text) = Self.split(action)
        switch keyword.uppercased() {
        case "OK", "DUNNO":
            self = .proceed
        case "REJECT":
            self = .reply(SMTPReply(code: 554, Self.withStatusCode(text, class: 5, default: "5.7.1", otherwise: "Access denied")))
        case "DEFER", "DEFER_IF_PERMIT":
            self = .reply(SMTPReply(code: 450, Self.withStatusCode(text, class: 4, default: "4.7.1", otherwise: "Service unavailable")))
        case "PREPEND":
            if stage == .endOfMessage {
                self = .unsupported(reason: "PREPEND at END-OF-MESSAGE (the content has already been forwarded)")
            } else if Self.isHeader(text) {
                self = .prepend(header: text)
            } else {
                self = .unsupported(reason: "PREPEND without a valid 'Name: value' header")
            }
        case "WARN":
            self = .warn(text)
        case let code where code.utf8.count == 3 && Self.isDigits(code):
            guard let number = Int(code), (400...599).contains(number) else {
                self = .unsupported(reason: "reply code \(code) (only 4NN and 5NN refuse)")
                return
            }
            self = .reply(SMTPReply(code: number, text.isEmpty ? (number < 500 ? "4.7.1 Service unavailable" : "5.7.1 Access denied") : text))
        case "":
            self = .unsupported(reason: "empty action")
        default:
            self = .unsupported(reason: "\(keyword.uppercased()) is not supported")
        }
    }

    /// The `answer` label of `smtp_inspect_policy_requests_total`: the keyword (`DUNNO`, `REJECT`,
    /// `DEFER_IF_PERMIT`, `PREPEND`, …), `4NN`/`5NN` for a reply code, `unsupported` for the rest
    /// (a bounded set whatever the server says).
    public static func label(_ action: String) -> String {
        let keyword = split(action).keyword.uppercased()
        if keyword.utf8.count == 3, isDigits(keyword), let code = Int(keyword), (400...599).contains(code) {
            return code < 500 ? "4NN" : "5NN"
        }
        let known = ["OK", "DUNNO", "REJECT", "DEFER", "DEFER_IF_PERMIT", "PREPEND", "WARN"]
        return known.contains(keyword) ? keyword : "unsupported"
    }

    /// `DEFER_IF_PERMIT Greylisted, see …` → (`DEFER_IF_PERMIT`, `Greylisted, see …`). Control
    /// characters in the text become spaces: it may end up in a reply line.
    static func split(_ action: String) -> (keyword: String, text: String) {
        let trimmed = action.drop { $0 == " " || $0 == "\t" }
        let keyword = trimmed.prefix { $0 != " " && $0 != "\t" }
        let rest = trimmed.dropFirst(keyword.count).drop { $0 == " " || $0 == "\t" }
        let text = String(String.UnicodeScalarView(rest.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
        var end = text.endIndex
        while end > text.startIndex, text[text.index(before: end)] == " " { end = text.index(before: end) }
        return (String(keyword), String(text[..<end]))
    }

    /// `text` led by an enhanced status code: its own when it starts with one of the reply's class
    /// (postgrey's `4.2.0 Greylisted, …`, as Postfix keeps it), else `code`.
    static func withStatusCode(_ text: String, class replyClass: Int, default code: String, otherwise fallback: String) -> String {
        guard !text.isEmpty else { return "\(code) \(fallback)" }
        let first = text.prefix { $0 != " " }
        if let reply = SMTPReply(parsing: "\(replyClass)00 \(first)"), let own = reply.enhancedStatusCode,
            own.hasPrefix("\(replyClass).")
        {
            return text
        }
        return "\(code) \(text)"
    }

    /// `Name: value` with a name of printable ASCII other than `:` (RFC 5322 §2.2).
    static func isHeader(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":"), colon > text.startIndex else { return false }
        return text[..<colon].utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }
    }

    static func isDigits(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
