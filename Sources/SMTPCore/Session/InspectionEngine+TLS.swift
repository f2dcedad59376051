import struct NIOCore.ByteBuffer

/// `--tls terminate` (SPEC §4): the proxy is the TLS server for the client and the TLS client for
/// the upstream, and inspects the clear text in between.
///
/// The legs are upgraded in lockstep when the upstream offers STARTTLS: the client's STARTTLS is
/// forwarded, and the upstream's `220` upgrades both legs at once (`startClientTLS` and
/// `startServerTLS`), so the upstream sees the same EHLO/STARTTLS/EHLO sequence as the client.
/// When the upstream offers no STARTTLS (or the client leg is already encrypted by an implicit-TLS
/// listener) the proxy answers STARTTLS itself and only the client leg is encrypted; it then
/// refuses everything but EHLO/HELO/NOOP/RSET/QUIT until the client greets again, as the upstream
/// would have (RFC 3207 §4.2: after TLS both sides discard what they knew).
extension InspectionEngine {
    /// The leg whose TLS handshake failed (`tlsHandshakeFailed`).
    public enum TLSLeg: String, Sendable, CaseIterable {
        case client
        case upstream
    }

    /// A TLS handshake the driver ran failed: logged as a `tls-handshake-failed` anomaly. When it
    /// was the upstream's (an untrusted certificate, say) the client, whose own leg is encrypted by
    /// now, gets `421 4.7.0` and both legs close; a client's failed handshake just ends the session.
    public mutating func tlsHandshakeFailed(_ leg: TLSLeg, reason: String, at time: SMTPTimestamp, into out: inout InspectionEffects) {
        now = time
        anomaly(.tlsHandshakeFailed, "\(leg.rawValue) leg: \(reason)", &out)
        switch leg {
        case .client:
            setEndReason(.tlsFailed)
        case .upstream:
            rejectAndClose(SMTPReply(code: 421, "4.7.0 Error: TLS with the upstream failed, closing"), reason: .tlsFailed, &out)
        }
    }

    /// Answers STARTTLS and the commands that must wait for a new EHLO in `--tls terminate`;
    /// returns false when the command takes the ordinary path (a STARTTLS to forward upstream).
    mutating func handleCommandUnderTermination(_ command: SMTPCommand, display: String, _ out: inout InspectionEffects) -> Bool {
        let verb = command.verb
        if case .commands(let commands) = state, commands.helloRequired, ![.ehlo, .helo, .quit, .noop, .rset].contains(verb) {
            event(.command(CommandRecord(verb: verb.name, arg: display, action: "reject", rule: "--tls terminate")), &out)
            enqueueLocal(.local(verb.name, SMTPReply(code: 503, "5.5.1 Error: send HELO/EHLO first")), &out)
            return true
        }
        guard verb == .starttls else { return false }
        if tls.clientLegEncrypted {
            event(.command(CommandRecord(verb: verb.name, arg: display, action: "reject", rule: "--tls terminate")), &out)
            enqueueLocal(.local(verb.name, SMTPReply(code: 503, "5.5.1 Error: TLS already active")), &out)
            return true
        }
        if upstreamOffersSTARTTLS && !tls.upstreamLegEncrypted { return false }
        // The upstream cannot do TLS: the proxy answers for it and only the client leg is encrypted.
        event(.command(CommandRecord(verb: verb.name, arg: display, action: "forward", rule: "--tls terminate")), &out)
        var entry = PendingCommand.local(verb.name, SMTPReply(code: 220, "2.0.0 Ready to start TLS"))
        entry.effect = .startTLS
        entry.decidesClientMode = true
        enqueueLocal(entry, &out)
        return true
    }

    /// A `220` to STARTTLS under `--tls terminate`: the driver upgrades the client leg (and the
    /// upstream leg when the upstream gave the 220) after writing this batch's replies.
    /// With `emitsStart` false the caller emits the `startTLS` actions itself, after the reply
    /// that must still go out in clear.
    mutating func beginTermination(upstream: Bool, emitsStart: Bool = true, _ out: inout InspectionEffects) {
        discardPipelinedAfterSTARTTLS(&out)
        if emitsStart { out.append(.startTLS(.client)) }
        if upstream, emitsStart { out.append(.startTLS(.upstream)) }
        withCommands { commands in
            commands.chunked = nil
            if !upstream { commands.helloRequired = true }
        }
        upstreamOffersSTARTTLS = false
        envelope = nil
        recipientsForwarded = 0
        tls = upstream ? .terminated : .terminatedUpstreamClear
    }

    /// Plain text the client pipelined after STARTTLS would otherwise run inside the TLS session
    /// (CVE-2011-0411): it is discarded.
    mutating func discardPipelinedAfterSTARTTLS(_ out: inout InspectionEffects) {
        guard clientInput.readableBytes > 0 else { return }
        anomaly(.pipelinedAfterStartTLS, "client sent \(clientInput.readableBytes) octets after STARTTLS; discarded", &out)
        discardClientInput(&out)
    }

    /// The EHLO keywords the client sees under `--tls terminate`: STARTTLS is offered while the
    /// client leg is clear (the proxy has a certificate) and never once it is encrypted.
    /// Returns true when `model` changed.
    mutating func adjustSTARTTLSOffer(_ model: inout EHLOReply) -> Bool {
        upstreamOffersSTARTTLS = model.keyword("STARTTLS") != nil
        if tls.clientLegEncrypted {
            let before = model.keywords.count
            model.keywords.removeAll { $0.name == "STARTTLS" }
            return model.keywords.count != before
        }
        guard !upstreamOffersSTARTTLS else { return false }
        model.keywords.append(EHLOReply.Keyword(text: "STARTTLS"))
        return true
    }
}
