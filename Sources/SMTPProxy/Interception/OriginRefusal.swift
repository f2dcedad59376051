import NIOCore
import SMTPCore

/// Why a session is turned away before it begins, decided from the connection itself (for now:
/// the interception loop guard). The client gets `reply` as its greeting; the audit log's
/// `session-end` carries `reason`, the diagnostics `detail`.
struct OriginRefusal: Sendable {
    var reply: SMTPReply
    var reason: String
    var detail: String

    /// A connection made straight to the proxy's listener while it forwards each connection to
    /// its original destination: forwarding it would connect the proxy to itself.
    static func loop(listener: SocketAddress) -> OriginRefusal {
        OriginRefusal(
            reply: SMTPReply(code: 421, "4.4.6 Error: this is an intercepting proxy; connect to the server, not to the proxy"),
            reason: "interception-loop",
            detail: "connection made straight to the listener \(listener) (not intercepted): refused, the proxy does not connect to itself")
    }

    /// `--audit-failure tempfail` while the audit log cannot be written: no new session until it can.
    static let auditLogFailing = OriginRefusal(
        reply: SMTPReply(code: 421, "4.3.0 Error: audit log unavailable, try again later"),
        reason: "audit-log-failing",
        detail: "the audit log cannot be written: session refused (--audit-failure tempfail)")
}
