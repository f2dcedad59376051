/// Why a milter gave no usable answer. Every kind leads to the milter's `on-error` verdict and an
/// `anomaly` `milter-error` whose detail names the milter, the kind and this text.
public typealias MilterError = ServiceFailure<MilterFailureKind>

/// The kinds of `MilterError` (the `kind` label of `smtp_inspect_milter_errors_total`).
public enum MilterFailureKind: String, Hashable, Sendable {
    /// Could not connect (refused, no such socket, connect timeout).
    case unavailable
    /// No answer within `timeout`.
    case timeout
    /// The milter closed the connection.
    case closed
    /// A packet that is not the protocol (unknown reply, bad payload, wrong moment).
    case garbage
    /// A packet longer than `MilterPacket.maximumLength`.
    case oversized
    /// Option negotiation failed (version, steps not offered).
    case negotiation
    /// The held message could not be read (spool I/O).
    case spool
}
