/// The `kind` label of `smtp_inspect_upstream_errors_total`.
public enum UpstreamErrorKind: String, Sendable, CaseIterable {
    /// The TCP connection to the upstream could not be made (refused, unreachable, timed out).
    case connect
    /// The upstream closed or reset the connection while the client still expected replies.
    case lost
}
