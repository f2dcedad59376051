import struct NIOCore.ByteBuffer

/// The AUTH identity (RFC 4954): the engine reads the identity a client tries with PLAIN or
/// LOGIN (`AuthenticationProgress`), reports it in the facts of its consults (`sasl_username`,
/// `{auth_authen}`, client limits by `key: user`), and keeps it as the session's user once the
/// upstream answers `235`.
///
/// When the identity arrives in a response to a `334` (`AUTH LOGIN`, `AUTH PLAIN` without an
/// initial response) and the session consults at AUTH, that response is held and consulted
/// about, as the AUTH command itself was: a limit by user (a ban of the account being guessed)
/// refuses before the password reaches the upstream.
extension InspectionEngine {
    /// The user the upstream accepted (`235`), when the engine could read it.
    public var authenticatedUser: String? { authentication.authenticated }

    /// The bytes a response line goes upstream as: exactly as received, or re-ended with CRLF.
    static func forwardedBytes(of line: CommandLineFramer.Line) -> ByteBuffer {
        if line.isCanonical { return line.raw }
        var bytes = line.content
        bytes.writeString("\r\n")
        return bytes
    }

    /// Reads a response to a `334`; when it named the identity and the session consults at AUTH,
    /// holds it for a verdict (returns true) instead of forwarding it.
    mutating func holdsForIdentity(_ line: CommandLineFramer.Line, _ out: inout InspectionEffects) -> Bool {
        guard authentication.respond(line.content.readableBytesView), configuration.consultStages.contains(.auth) else { return false }
        let id = consultID()
        hold(
            .command(
                id,
                HeldCommand(
                    command: SMTPCommand(verb: .authResponse), transaction: nil, line: line, display: AuthArgument.redactionMarker,
                    decision: PolicyDecision(action: .forward))))
        out.append(.consult(id, ConsultRequest(stage: .auth, verb: .auth, argument: authentication.mechanism ?? "", facts: facts())))
        return true
    }

    /// The verdict on a response held by `holdsForIdentity`. The upstream is in the middle of its
    /// exchange: a refusal cancels it with `*` (its reply hidden from the client) and answers
    /// the client itself; a disconnect closes both legs.
    mutating func act(onAuthenticationResponse held: HeldCommand, verdict: Verdict?, _ out: inout InspectionEffects) {
        let verb = SMTPVerb.authResponse.name
        switch verdict?.action ?? .proceed {
        case .proceed, .delay, .rewrite:
            forwardAuthResponse(Self.forwardedBytes(of: held.line), display: held.display, rule: verdict?.rule, &out)
        case .reply where configuration.dryRun, .disconnect where configuration.dryRun:
            forwardAuthResponse(Self.forwardedBytes(of: held.line), display: held.display, action: "would-reject", rule: verdict?.rule, &out)
        case .reply(let reply):
            event(.command(CommandRecord(verb: verb, arg: held.display, action: "reject", rule: verdict?.rule)), &out)
            authentication.cancel()
            out.append(.writeToServer(ByteBuffer(string: "*\r\n")))
            pending.append(PendingCommand(verb: "AUTH", effect: .auth, isInternal: true, forwardedAt: now))
            enqueueLocal(.local("AUTH", reply), &out)
        case .disconnect(let reply):
            event(.command(CommandRecord(verb: verb, arg: held.display, action: "disconnect", rule: verdict?.rule)), &out)
            authentication.cancel()
            setEndReason(.disconnect)
            stopReadingClient()
            discardClientInput(&out)
            enqueueLocal(.local("AUTH", reply, closeAfterReply: true), &out)
        }
    }
}
