/// Decides from the first bytes of both directions whether a TCP connection carries SMTP, which
/// side is the server, and whether a proxy tunnel comes first. Any port: only content counts.
///
///     responder: "220 mx.example.org ESMTP\r\n"   initiator: "EHLO client\r\n"   → SMTP, server = responder
///     initiator: "HELO x\r\nMAIL FROM:<a@b>\r\n" (before any greeting)           → SMTP, server = responder
///     responder: "220 ftp.example.org FTP\r\n"    initiator: "USER anonymous\r\n" → not SMTP
///     responder: "+OK POP3 ready\r\n"                                              → not SMTP
///
/// Rules, in order:
/// 1. A tunnel set-up (HTTP CONNECT, SOCKS4/5) from either side is skipped, and the rules apply to
///    what follows it.
/// 2. A side whose first line is a `220`/`554` greeting is the server, unless the other side's first
///    line is an FTP command. The other side's first line is awaited (a `220` alone says SMTP or FTP).
///    2b. A `421 4.x.x` line to a side that stayed silent and closed is a server refusing an SMTP
///    session at connect (FTP's `421` carries no enhanced status code).
/// 3. A side whose first line is an SMTP-only command (EHLO, HELO, MAIL FROM, RCPT TO, STARTTLS,
///    BDAT) is the client, unless the other side's first line says another protocol.
/// 4. A side whose first line is a command SMTP shares with other protocols (QUIT, AUTH, RSET…) is
///    the client when the other side answers with reply codes or stays silent to the end.
/// 5. Otherwise: not SMTP.
/// The side that sent the SYN is only the default; content decides.
enum SMTPSessionDetector {
    struct Roles: Equatable {
        /// The direction that carries the server's bytes.
        var serverDirection: StreamDirection
        /// Bytes of tunnel set-up to skip at the start of each direction.
        var clientPrefix: Int = 0
        var serverPrefix: Int = 0
        var tunnel: String?
    }

    enum Verdict: Equatable {
        case needMore
        case notSMTP
        case smtp(Roles)
    }

    /// One direction's first bytes, and whether more can come (`ended`: closed, cut by a gap, or the
    /// detector ran out of patience).
    struct Prefix {
        var bytes: UnsafeRawBufferPointer
        var ended: Bool
    }

    static func detect(initiator: Prefix, responder: Prefix) -> Verdict {
        for (client, clientDirection) in [(initiator, StreamDirection.fromInitiator), (responder, .fromResponder)] {
            let server = clientDirection == .fromInitiator ? responder : initiator
            switch TunnelPrefix.parse(client: client.bytes, server: server.bytes) {
            case .none:
                continue
            case .refused:
                return .notSMTP
            case .needMore:
                if client.ended || server.ended { continue }
                return .needMore
            case .tunnel(let tunnel):
                let inner = classify(
                    initiator: clientDirection == .fromInitiator ? client : server,
                    responder: clientDirection == .fromInitiator ? server : client,
                    initiatorSkip: clientDirection == .fromInitiator ? tunnel.clientLength : tunnel.serverLength,
                    responderSkip: clientDirection == .fromInitiator ? tunnel.serverLength : tunnel.clientLength)
                guard case .smtp(var roles) = inner else { return inner }
                let serverIsResponder = roles.serverDirection == .fromResponder
                // Content inside the tunnel must agree with who asked for it.
                guard serverIsResponder == (clientDirection == .fromInitiator) else { return .notSMTP }
                roles.clientPrefix = tunnel.clientLength
                roles.serverPrefix = tunnel.serverLength
                roles.tunnel = tunnel.description
                return .smtp(roles)
            }
        }
        return classify(initiator: initiator, responder: responder, initiatorSkip: 0, responderSkip: 0)
    }

    private static func classify(initiator: Prefix, responder: Prefix, initiatorSkip: Int, responderSkip: Int) -> Verdict {
        let initiatorLine = LineScan.first(in: initiator.bytes, from: initiatorSkip, ended: initiator.ended)
        let responderLine = LineScan.first(in: responder.bytes, from: responderSkip, ended: responder.ended)
        let initiatorKind = kind(initiatorLine, initiator.bytes)
        let responderKind = kind(responderLine, responder.bytes)

        // 2. A greeting names the server.
        for (serverKind, clientKind, clientLine, serverDirection) in [
            (responderKind, initiatorKind, initiatorLine, StreamDirection.fromResponder),
            (initiatorKind, responderKind, responderLine, .fromInitiator),
        ] where serverKind == .greeting {
            if clientKind == .ftpCommand { return .notSMTP }
            if clientLine == .incomplete { return .needMore }
            if clientKind == .greeting { break }
            return .smtp(Roles(serverDirection: serverDirection))
        }
        let initiatorSilent = initiator.bytes.count <= initiatorSkip
        let responderSilent = responder.bytes.count <= responderSkip
        // 2b. A `421` to a client that said nothing and closed: an SMTP session refused at connect
        // (a proxy's client limit, a server too busy, RFC 5321 §3.8).
        for (serverLine, serverPrefix, client, clientSilent, serverDirection) in [
            (responderLine, responder, initiator, initiatorSilent, StreamDirection.fromResponder),
            (initiatorLine, initiator, responder, responderSilent, .fromInitiator),
        ] where clientSilent && client.ended {
            if case .line(let range) = serverLine, Self.isServiceNotAvailable(serverPrefix.bytes, range) {
                return .smtp(Roles(serverDirection: serverDirection))
            }
        }
        // 3. and 4. A command names the client.
        for (clientKind, serverKind, serverLine, serverSilent, serverDirection) in [
            (initiatorKind, responderKind, responderLine, responderSilent, StreamDirection.fromResponder),
            (responderKind, initiatorKind, initiatorLine, initiatorSilent, .fromInitiator),
        ] where clientKind?.isCommand == true {
            if serverKind == .otherProtocol || serverKind == .ftpCommand || serverKind?.isCommand == true { continue }
            if clientKind == .strongCommand { return .smtp(Roles(serverDirection: serverDirection)) }
            if serverKind == .reply { return .smtp(Roles(serverDirection: serverDirection)) }
            if serverLine == .incomplete { return .needMore }
            if serverSilent { return .smtp(Roles(serverDirection: serverDirection)) }
        }
        if initiatorLine == .incomplete || responderLine == .incomplete { return .needMore }
        return .notSMTP
    }

    /// `421 4.7.0 …` or `421-…` (with an enhanced status code, as SMTP servers give it; FTP's
    /// `421 Service not available` has none).
    private static func isServiceNotAvailable(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        let line = bytes[range]
        guard line.count >= 9, line.starts(with: "421".utf8), line[range.lowerBound + 3] == 0x20 || line[range.lowerBound + 3] == 0x2D
        else { return false }
        let status = line.dropFirst(4)
        return status.first == UInt8(ascii: "4") && status.dropFirst().first == UInt8(ascii: ".")
    }

    /// The kind of a scanned first line; nil when there is none (silent, or no line end).
    private static func kind(_ scan: LineScan, _ bytes: UnsafeRawBufferPointer) -> FirstLineKind? {
        guard case .line(let range) = scan else { return nil }
        return FirstLineKind.classify(UnsafeRawBufferPointer(rebasing: bytes[range]))
    }
}
