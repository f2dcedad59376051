/// Something the operator should know about one session's resend that is not a reply
/// difference: where it stopped and why, a step that timed out, a connection that failed.
public struct ResendNote: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        /// The capture's client started TLS (STARTTLS got 220); the rest was not resent.
        case startTLS = "starttls"
        /// The capture's session became a blind relay (TURN/ATRN accepted); the rest was not resent.
        case relay
        /// The capture lost bytes; the resend stopped before them.
        case gap
        /// The capture began after the connection's handshake.
        case midStream = "mid-stream"
        /// One server said 354 (or 334) where the other did not: from here on the two servers read
        /// the client's bytes differently (message text vs commands), and later differences follow.
        case diverged
        /// A step ended without all the replies the capture had (the time per step ran out).
        case timeout
        /// The live server closed the connection before the session's last step.
        case closed
        /// Sending or reading failed (a reset, an error).
        case failed = "connection-failed"
        /// No connection to the target.
        case connectFailed = "connect-failed"
        /// The capture's client started TLS and the resend did too (`ResendTLS`): how it went.
        case tls
        /// The TLS handshake with the live server failed; the rest was not resent.
        case tlsFailed = "tls-failed"
    }

    public var kind: Kind
    public var step: Int?
    public var detail: String

    public init(kind: Kind, step: Int? = nil, detail: String) {
        self.kind = kind
        self.step = step
        self.detail = detail
    }

    /// Notes that make the session's outcome a difference (exit status 1).
    public var isFailure: Bool {
        switch kind {
        case .closed, .failed, .connectFailed, .timeout, .tlsFailed: true
        case .startTLS, .relay, .gap, .midStream, .diverged, .tls: false
        }
    }
}
