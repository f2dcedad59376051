import SMTPCore

/// What the milters decided about one held message (`MilterConsultant.endOfMessage`).
public struct MilterMessageOutcome: Sendable {
    /// For `InspectionEngine.decided` at `END-OF-MESSAGE`: `.proceed` (forward `message` with
    /// `envelope` applied), `.reply(r)` (not forwarded: the upstream's transaction is reset and
    /// the client gets `r`; a 250 here is a discard), or `.disconnect(421)` (a milter's shutdown).
    /// `verdict.events` holds one `milter` event per answer and an `anomaly` per failure.
    public var verdict: Verdict
    /// The message with every accepting milter's header and body modifications applied; forward
    /// `message.content(dotStuffed:)`.
    public var message: HeldMessage
    /// Sender and recipient changes, to apply to the upstream transaction.
    public var envelope: MilterEnvelopeChanges
    /// A milter said `discard`: the client is told 250, the upstream gets nothing.
    public var discarded: Bool
}
