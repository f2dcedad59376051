/// Why a policy server gave no usable answer: the rule's `on-error` then applies, with an
/// `anomaly` `policy-error` and a count in `smtp_inspect_policy_errors_total{kind}`.
public typealias PolicyFailure = ServiceFailure<PolicyFailureKind>

/// The kinds of `PolicyFailure` (the `kind` label of `smtp_inspect_policy_errors_total`).
public enum PolicyFailureKind: String, Hashable, Sendable, CaseIterable {
    /// The connection could not be made (nothing listens, no such socket, connect timeout).
    case refused
    /// The server closed or reset the connection before its answer was complete.
    case reset
    /// The answer is not `name=value` lines with an `action`.
    case garbage
    /// The answer grew past `PolicyClient.maximumAnswerLength` without ending.
    case oversized
    /// No complete answer within the rule's `timeout`.
    case timeout
    /// Too many requests already wait for this service (`PolicyClient.Limits.maximumQueued`).
    case overload
}
