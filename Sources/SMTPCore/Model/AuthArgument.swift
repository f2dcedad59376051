/// The argument of `AUTH mechanism [initial-response]`.
///
///     AUTH PLAIN AGFsaWNlAHNlY3JldA==
///     AUTH LOGIN
///
/// The initial response carries credentials: `redacted` is what the audit log and recordings show.
/// SeeAlso: RFC 4954 §4.
public struct AuthArgument: Hashable, Sendable {
    /// Upper case.
    public var mechanism: String
    public var initialResponse: String?

    public init(parsing argument: String) {
        let words = SMTPGrammar.words(argument)
        mechanism = SMTPVerb.uppercased(words.first ?? "")
        initialResponse = words.count > 1 ? words[1...].joined(separator: " ") : nil
    }

    /// `PLAIN [redacted]`; the empty initial response `=` is shown as is.
    public var redacted: String {
        guard let response = initialResponse else { return mechanism }
        return response == "=" ? "\(mechanism) =" : "\(mechanism) \(Self.redactionMarker)"
    }

    public static let redactionMarker = "[redacted]"
    /// What recordings show in place of a secret: still valid base64, so a replay parses it.
    public static let redactedResponse = "cmVkYWN0ZWQ="
}
