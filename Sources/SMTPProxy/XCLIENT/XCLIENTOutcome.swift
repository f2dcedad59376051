/// How the `--xclient` exchange with the upstream ended (`XCLIENTHandler`).
public enum XCLIENTOutcome: Hashable, Sendable {
    /// The upstream took the client's attributes; its new greeting went to the client.
    case applied(command: String)
    /// The upstream does not offer XCLIENT, refused it, or failed before it: the session goes on
    /// unchanged (the upstream's original greeting went to the client). Log an `anomaly`
    /// `xclient-unavailable` with `reason`.
    case unavailable(reason: String)
}
