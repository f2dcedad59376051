import SMTPCore

/// Label values with a bounded set of values, whatever a client sends.
enum MetricLabel {
    /// Verbs that keep their own label: SMTP's, the audit log's pseudo-verbs (`AUTH-RESPONSE`, `.`),
    /// and `greeting`.
    static let knownVerbs: Set<String> = Set(SMTPVerb.known.map(\.name)).union([
        SMTPVerb.authResponse.name, SMTPVerb.endOfData.name, "greeting",
    ])

    /// The verb as a label: itself when known, `OTHER` for anything a client made up (and for the
    /// empty verb of an over-long line), `none` for a reply that answered no command.
    static func verb(_ verb: String?) -> String {
        guard let verb else { return "none" }
        return knownVerbs.contains(verb) ? verb : "OTHER"
    }

    /// `2xx`…`5xx`; `none` when there was no reply; `other` for codes outside 200–599.
    static func replyClass(_ code: Int?) -> String {
        guard let code else { return "none" }
        switch code {
        case 200..<300: return "2xx"
        case 300..<400: return "3xx"
        case 400..<500: return "4xx"
        case 500..<600: return "5xx"
        default: return "other"
        }
    }
}
