import SMTPCore

/// The `command:` key of a rule: which verbs it applies to, compared case-insensitively.
///
///     command: VRFY              → .verbs([VRFY])
///     command: [vrfy, EXPN]      → .verbs([VRFY, EXPN])
///     command: "*"  (or absent)  → .any
public enum CommandMatch: Hashable, Sendable, CustomStringConvertible {
    case any
    case verbs(Set<SMTPVerb>)

    /// Whether `verb` is covered; a nil verb (a reply with no command, such as the greeting) is
    /// covered only by `.any`.
    public func matches(_ verb: SMTPVerb?) -> Bool {
        switch self {
        case .any: true
        case .verbs(let verbs): verb.map(verbs.contains) ?? false
        }
    }

    public var description: String {
        switch self {
        case .any: "*"
        case .verbs(let verbs): verbs.map(\.name).sorted().joined(separator: ", ")
        }
    }
}
