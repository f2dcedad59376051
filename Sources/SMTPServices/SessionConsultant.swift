import NIOCore
import SMTPCore

/// A driver-side service that the engine consults through its driver: the client-limit counters,
/// Postfix policy services, milters. The engine stops at a `ConsultStage`, emits
/// `SessionAction.consult`, and goes on when the driver feeds the verdict back
/// (`InspectionEngine.decided`). Both drivers use the same consultants: the live proxy on the
/// session's event loop, replay on a loop of its own, in capture time.
public protocol SessionConsultant: AnyObject, Sendable {
    /// The stages this consultant must be asked about in a session of `client` (the engine's
    /// `consultStages`); an empty set costs the session nothing.
    func stages(for client: Endpoint) -> Set<ConsultStage>

    /// The verdict for one request, completed on `eventLoop`. It never fails: a service that is
    /// down, slow or answers garbage gives its configured `on-error` verdict (with an `anomaly`
    /// among the verdict's events). `time` is the session's clock (capture time in replay).
    func consult(_ request: ConsultRequest, at time: SMTPTimestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Verdict>

    /// The verdict `consult` would complete with, when the consultant knows it without waiting
    /// (counters in memory); nil, having done nothing, when it must ask a service. Lets
    /// `ConsultantChain.answer(_:at:on:excluding:)` decide a consult without a future.
    func immediateVerdict(for request: ConsultRequest, at time: SMTPTimestamp) -> Verdict?

    /// Every event a session logged, in order (counters learn from `session-start`, replies,
    /// `message` and `session-end`). Called on the session's event loop.
    func observe(_ events: ArraySlice<AuditEvent>)
}

extension SessionConsultant {
    public func observe(_ events: ArraySlice<AuditEvent>) {}

    public func immediateVerdict(for request: ConsultRequest, at time: SMTPTimestamp) -> Verdict? { nil }
}
