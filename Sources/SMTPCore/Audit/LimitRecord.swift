/// A `limit` event (SPEC §10): a client-limit rule was hit.
public struct LimitRecord: Hashable, Sendable {
    /// The `client-limits` rule.
    public var rule: String
    /// What was counted: the client address, its network (`192.0.2.0/24`), or `user:NAME`.
    public var key: String
    /// The count that reached the rule's `max`.
    public var count: Int
    /// `log`, `reject`, `ban`, `tarpit`, or `would-…` under `--dry-run`.
    public var action: String
    /// For a ban: when it ends.
    public var until: SMTPTimestamp?

    public init(rule: String, key: String, count: Int, action: String, until: SMTPTimestamp? = nil) {
        self.rule = rule
        self.key = key
        self.count = count
        self.action = action
        self.until = until
    }
}
