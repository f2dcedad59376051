/// What a `client-limits` rule counts (`count:`, SPEC §10).
///
///     count: auth-failures      # AUTH answered 534/535/538 (or refused by the proxy)
public enum ClientLimitCount: String, Hashable, Sendable, CaseIterable {
    /// Concurrent sessions of the key (a gauge: no `per`).
    case sessions
    /// Sessions started (refused ones included) within `per`.
    case connections
    /// AUTH answered 534, 535 or 538 by the upstream, or refused by the proxy with a 5xx.
    case authFailures = "auth-failures"
    /// RCPT answered 550, 551 or 553 with an enhanced status 5.1.x by the upstream.
    case unknownRecipients = "unknown-recipients"
    /// Mail transactions that reached their end of data (the `message` event).
    case messages
    /// RCPT the upstream accepted (2xx).
    case recipients
    /// Commands the proxy refused by a rule (`command` events whose action is `reject`).
    case refusedCommands = "refused-commands"

    /// True for counts over a sliding window (`per:` required); false for `sessions`.
    public var isWindowed: Bool { self != .sessions }

    /// True for what is known when the session begins (the only counts a `key: user` rule cannot
    /// use: no AUTH identity exists yet).
    public var isCountedAtConnect: Bool { self == .sessions || self == .connections }
}
