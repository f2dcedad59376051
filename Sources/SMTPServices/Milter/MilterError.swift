/// Why a milter gave no usable answer. Every kind leads to the milter's `on-error` verdict and an
/// `anomaly` `milter-error` whose detail names the milter, the kind and this text.
public struct MilterError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
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

    public var kind: Kind
    public var detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue): \(detail)" }
}
