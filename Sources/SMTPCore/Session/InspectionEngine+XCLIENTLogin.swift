import struct NIOCore.ByteBuffer

/// `proxy --xclient` after a successful AUTH (SPEC §11): when the upstream's EHLO offers XCLIENT
/// with `LOGIN`, the proxy tells it the authenticated user, `XCLIENT LOGIN=<user>` (xtext,
/// RFC 3461 §4), as Postfix's XCLIENT_README describes for a proxy that authenticated the client.
/// The upstream answers with a new greeting and wants a new EHLO: the proxy sends the client's
/// HELO/EHLO name again. Both exchanges are the proxy's own (their replies never reach the
/// client); the client's next command waits until they are over, so it goes to an upstream that
/// knows the user. An upstream that refuses is an `anomaly` `xclient-unavailable`; the session
/// goes on as before.
extension InspectionEngine {
    /// The `rule` that strips XCLIENT from the client's EHLO replies and refuses the client's own.
    static let xclientRule = "--xclient"

    /// The upstream's reply to an EHLO: does it take `XCLIENT LOGIN=`?
    mutating func noteXCLIENTOffer(_ offered: EHLOReply) {
        authentication.upstreamTakesXCLIENTLogin = offered.keywords.contains {
            $0.name == "XCLIENT" && $0.parameters.contains { SMTPVerb.uppercased($0) == "LOGIN" }
        }
    }

    /// The upstream answered AUTH with `235`: tell it the user, if it takes it.
    mutating func tellUpstreamTheLogin(_ out: inout InspectionEffects) {
        guard configuration.xclient, authentication.upstreamTakesXCLIENTLogin, let user = authentication.authenticated else { return }
        sendInternal("XCLIENT LOGIN=" + XText.encode(user), &out)
    }

    /// The reply to one of the commands above; false for any other internal command.
    mutating func xclientLoginReplied(_ reply: SMTPReply, to head: PendingCommand, _ out: inout InspectionEffects) -> Bool {
        switch head.verb {
        case "XCLIENT":
            if reply.code == 220, let name = heloName {
                sendInternal((sawEHLO ? "EHLO " : "HELO ") + name, &out)
            } else if reply.code != 220 {
                anomaly(.xclientUnavailable, "the upstream refused XCLIENT LOGIN: \(reply.code) \(String(reply.text.prefix(200)))", &out)
            }
            return true
        case "EHLO", "HELO":
            if reply.code != 250 {
                anomaly(.xclientUnavailable, "the upstream refused \(head.verb) after XCLIENT LOGIN: \(reply.code) \(String(reply.text.prefix(200)))", &out)
            }
            return true
        default:
            return false
        }
    }

    /// A command of the proxy's own: the client's input waits for its reply, which it never sees.
    private mutating func sendInternal(_ line: String, _ out: inout InspectionEffects) {
        out.append(.writeToServer(ByteBuffer(string: line + "\r\n")))
        let verb = String(line.prefix { $0 != " " })
        pending.append(PendingCommand(verb: verb, effect: .none, decidesClientMode: true, isInternal: true, forwardedAt: now))
    }
}
