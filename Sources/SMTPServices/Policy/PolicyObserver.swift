/// Told of every policy request's outcome (the proxy's metrics conform:
/// `smtp_inspect_policy_requests_total`, `..._policy_errors_total`, `..._policy_latency_seconds`).
/// Called on the event loop of the session that asked.
public protocol PolicyObserver: AnyObject, Sendable {
    /// A server answered; `answer` is `PolicyAnswer.label` of its action.
    func policyAnswered(service: String, answer: String, latency: Duration)
    /// A request failed (its rule's `on-error` applied).
    func policyFailed(service: String, kind: PolicyFailure.Kind, latency: Duration)
}
