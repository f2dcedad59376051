/// The kind of an `anomaly` event: a protocol oddity worth an auditor's eye, whether or not a rule
/// fired (Zeek calls these "weirds"). Open set: drivers add their own (`content-gap` in replay).
public struct AnomalyKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let bareLF = AnomalyKind(rawValue: "bare-lf")
    public static let bareCR = AnomalyKind(rawValue: "bare-cr")
    public static let nul = AnomalyKind(rawValue: "nul")
    public static let smugglingAttempt = AnomalyKind(rawValue: "smuggling-attempt")
    public static let pipelinedAfterStartTLS = AnomalyKind(rawValue: "pipelined-after-starttls")
    public static let pipelinedAfterQuit = AnomalyKind(rawValue: "pipelined-after-quit")
    public static let pipeliningOverflow = AnomalyKind(rawValue: "pipelining-overflow")
    public static let lineTooLong = AnomalyKind(rawValue: "line-too-long")
    public static let unknownCommand = AnomalyKind(rawValue: "unknown-command")
    public static let malformedCommand = AnomalyKind(rawValue: "malformed-command")
    public static let bdatOverflow = AnomalyKind(rawValue: "bdat-overflow")
    public static let messageTooLarge = AnomalyKind(rawValue: "message-too-large")
    public static let malformedReply = AnomalyKind(rawValue: "malformed-reply")
    public static let replyTooLong = AnomalyKind(rawValue: "reply-too-long")
    public static let unsolicitedReply = AnomalyKind(rawValue: "unsolicited-reply")
    public static let strippedKeywordUsed = AnomalyKind(rawValue: "stripped-keyword-used")
    public static let roleReversal = AnomalyKind(rawValue: "role-reversal")
    public static let incompleteSession = AnomalyKind(rawValue: "incomplete-session")
    public static let contentGap = AnomalyKind(rawValue: "content-gap")
    /// A policy service answered something the proxy does not carry out (SPEC §11).
    /// The client talked before the greeting reached it (`settings.pregreet`).
    public static let pregreet = AnomalyKind(rawValue: "pregreet")
    /// The upstream refused a sender or recipient a milter set for a held message.
    public static let envelopeChangeRefused = AnomalyKind(rawValue: "envelope-change-refused")
    public static let policyUnsupported = AnomalyKind(rawValue: "policy-unsupported")
    /// Replay: a retransmitted segment carried different bytes than the first copy (kept).
    public static let tcpOverlapConflict = AnomalyKind(rawValue: "tcp-overlap-conflict")
    /// Replay: SOCKS or HTTP CONNECT set-up bytes skipped before the SMTP session.
    public static let tunnel = AnomalyKind(rawValue: "tunnel")
    public static let upstreamUnavailable = AnomalyKind(rawValue: "upstream-unavailable")
    /// `--tls terminate`: a TLS handshake with the client or the upstream failed.
    public static let tlsHandshakeFailed = AnomalyKind(rawValue: "tls-handshake-failed")
    /// A rule could not be evaluated (its pattern failed while matching): the command was refused.
    public static let ruleError = AnomalyKind(rawValue: "rule-error")
    /// A policy server (SPEC §11) was down, slow, or answered garbage: its rule's `on-error` applied.
    public static let policyError = AnomalyKind(rawValue: "policy-error")
    /// `--xclient`: the upstream does not offer XCLIENT (or refused it); the session went on without.
    public static let xclientUnavailable = AnomalyKind(rawValue: "xclient-unavailable")
}
