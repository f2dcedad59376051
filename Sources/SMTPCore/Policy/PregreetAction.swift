/// What the engine does with a client that sends anything before the greeting reached it
/// (`settings.pregreet`, postscreen's pregreet test): an `anomaly` `pregreet` either way.
public enum PregreetAction: String, Hashable, Sendable, CaseIterable {
    /// Logged; the session goes on.
    case log
    /// Refused with `554 5.5.1` and closed; nothing reaches the upstream.
    case reject
}
