/// Why an outside service (a milter, a policy server) gave no usable answer: a `kind` for the
/// anomaly and the metrics label, and a `detail` for people. The consultant then applies the
/// service's `on-error`.
///
///     throw MilterError(.timeout, "no answer to MAIL within 30 s")   // "timeout: no answer …"
public struct ServiceFailure<FailureKind: RawRepresentable & Hashable & Sendable>: Error, Hashable, Sendable, CustomStringConvertible
where FailureKind.RawValue == String {
    /// `MilterError.Kind`, `PolicyFailure.Kind`.
    public typealias Kind = FailureKind

    public var kind: Kind
    public var detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue): \(detail)" }
}
