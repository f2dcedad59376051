/// `settings.pregreet`: what happens to a client that talks before the greeting reached it
/// (postscreen's pregreet test; the `pregreet` anomaly is logged either way).
public enum PregreetPolicy: String, Hashable, Sendable, CaseIterable {
    /// The anomaly is logged and the session goes on.
    case log
    /// The client gets `554 5.5.1` and the session is closed.
    case reject
}
