import SMTPCore

/// One counting entry of a rule file's `client-limits:` list (SPEC §10).
///
///     - name: auth-guessing
///       count: auth-failures
///       max: 5
///       per: 10m
///       key: address
///       action: ban
///       for: 30m
///
/// A key hits the rule when its count has reached `max`: the command (or, for `sessions` and
/// `connections`, the session) that comes while the count is at `max` or above is the one the
/// action applies to. `exempt` entries are `ClientExemption`s.
public struct ClientLimitRule: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var count: ClientLimitCount
    public var max: Int
    /// `per:`, the sliding window; nil for `sessions` (a count of concurrent sessions).
    public var window: Duration?
    public var key: ClientLimitKey
    public var action: ClientLimitAction
    /// `reply:` of a `reject` or `ban` rule; nil for the default (`421 4.7.0` at connect and for a
    /// ban, `450 4.7.1` for a refused command).
    public var reply: SMTPReply?
    public var location: RuleLocation?

    public init(
        name: String, count: ClientLimitCount, max: Int, window: Duration? = nil, key: ClientLimitKey = .address,
        action: ClientLimitAction, reply: SMTPReply? = nil, location: RuleLocation? = nil
    ) {
        precondition(max > 0, "a client limit's max is positive")
        precondition((window == nil) == !count.isWindowed, "windowed counts have a window, sessions none")
        self.name = name
        self.count = count
        self.max = max
        self.window = window
        self.key = key
        self.action = action
        self.reply = reply
        self.location = location
    }

    /// `auth-guessing (auth-failures ≥ 5 per 600 seconds by address: ban)`.
    public var description: String {
        let window = self.window.map { " per \($0)" } ?? ""
        return "\(name) (\(count.rawValue) ≥ \(max)\(window) by \(key.rawValue): \(action))"
    }
}
