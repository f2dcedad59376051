/// Learns every milter answer and failure (the proxy's metrics conform).
public protocol MilterObserver: AnyObject, Sendable {
    /// One answer: `verdict` as in the `milter` event; `latency` from sending the step to the answer.
    func milterAnswered(milter: String, verdict: String, latency: Duration)
    /// A failure: `kind` is a `MilterError.Kind` raw value (`timeout`, `closed`, `garbage`, …).
    func milterFailed(milter: String, kind: String)
}
