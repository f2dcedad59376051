/// What a `client-limits` rule does when a key reaches its `max` (`action:`, SPEC §10).
public enum ClientLimitAction: Hashable, Sendable, CustomStringConvertible {
    /// The hit is logged (a `limit` event), nothing else.
    case log
    /// The session (at connect: `421 4.7.0`, closed before the upstream is contacted) or the
    /// command (`450 4.7.1`) that exceeds the limit is refused.
    case reject
    /// As `reject`, and every session of the key is refused at connect for `duration`.
    case ban(for: Duration)
    /// Each later command of the key waits `delay` before it is handled.
    case tarpit(delay: Duration)

    /// The YAML names, for messages.
    public static let names = ["log", "reject", "ban", "tarpit", "exempt"]

    /// `log`, `reject`, `ban` or `tarpit`: the `action` of a `limit` event (`would-…` in a dry run).
    public var name: String {
        switch self {
        case .log: "log"
        case .reject: "reject"
        case .ban: "ban"
        case .tarpit: "tarpit"
        }
    }

    public var description: String { name }
}
