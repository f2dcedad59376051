/// What a rule does when it matches (the `action:` key of a rule file).
///
/// | action       | terminal | what happens                                                        |
/// |--------------|----------|---------------------------------------------------------------------|
/// | `log`        | no       | the rule's name is recorded (`loggedBy`); evaluation continues      |
/// | `allow`      | yes      | forwarded as is; no later rule is consulted                         |
/// | `reject`     | yes      | answered by the proxy (`reply`, or the engine's default), not sent  |
/// | `rewrite`    | yes      | the first match of `argument` is replaced by `replace`, then sent   |
/// | `strip`      | —        | an `ehlo-keyword` rule: the keyword is removed from EHLO replies    |
/// | `disconnect` | yes      | answered (`reply`, default `421 4.7.0`) and both connections closed |
/// | `policy`     | no       | a policy server is asked (`service`); its answer may refuse first   |
public enum RuleAction: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case log
    case allow
    case reject
    case rewrite
    case strip
    case disconnect
    /// Ask a Postfix policy server (SPEC §11); the rule set lists the rule in `consult`.
    case policy

    /// Whether a match ends the evaluation of a command.
    public var isTerminal: Bool {
        switch self {
        case .allow, .reject, .rewrite, .disconnect: true
        case .log, .strip, .policy: false
        }
    }

    public var description: String { rawValue }
}
