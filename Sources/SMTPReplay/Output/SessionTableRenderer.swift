import SMTPCore

/// Renders audit events as a readable summary, one block per session, printed when the
/// session ends (sessions of one capture interleave in the events; the blocks do not).
///
///     ── mail.pcap#0  192.0.2.10:51234 → 198.51.100.25:25  2009-10-05T06:06:07.123456Z ──
///       COMMAND                                  ACTION         REPLY
///       (greeting)                                              220 mx.example.org ESMTP Exim 4.69
///       EHLO client.example.org                  forward        250 mx.example.org Hello client [192.0.2.10]
///       VRFY root                                reject         502 5.5.1 VRFY and EXPN are disabled (proxy) [no-vrfy-expn]
///       MAIL FROM:<alice@example.org>            forward        250 OK
///       RCPT TO:<bob@example.net>                forward        250 Accepted
///       DATA                                     forward        354 Enter message, ending with "." on a line by itself
///       (end of data)                                           250 OK id=1MuqYt-0003Xq-Ff
///       message  <alice@example.org> → <bob@example.net>  1234 octets  result 250  subject "Hello"
///       ! bare-lf  bare <LF> in DATA, forwarded as <CR><LF>
///       QUIT                                     forward        221 mx.example.org closing connection
///       rules fired: no-vrfy-expn ×1
///       result: quit; 6 commands, 1 message; 412 octets from the client, 590 from the server; TLS none
///
/// Feed every event with `consume(_:)`; it returns a block when a session ends. `finishAll()`
/// returns the blocks of sessions that never ended (events cut short).
public struct SessionTableRenderer: Sendable {
    public var commandWidth = 40
    public var actionWidth = 14
    public var replyWidth = 80

    private var sessions: [String: SessionTable] = [:]
    private var order: [String] = []

    public init() {}

    /// Takes one event; returns the finished block when it was the session's `session-end`.
    public mutating func consume(_ event: AuditEvent) -> String? {
        if sessions[event.session] == nil {
            sessions[event.session] = SessionTable(id: event.session)
            order.append(event.session)
        }
        sessions[event.session]!.add(event)
        guard case .sessionEnd = event.kind else { return nil }
        let table = sessions.removeValue(forKey: event.session)!
        order.removeAll { $0 == event.session }
        return render(table)
    }

    /// Blocks of the sessions still open, in the order they began.
    public mutating func finishAll() -> [String] {
        let open = order.compactMap { sessions[$0] }
        sessions.removeAll()
        order.removeAll()
        return open.map(render)
    }

    private func render(_ table: SessionTable) -> String {
        var text = "── \(table.id)"
        if let start = table.start {
            text += "  \(start.client) → \(start.server)  \(start.time)"
            if start.source.hasSuffix(table.id) == false { text += "  (\(start.source))" }
        }
        text += " ──\n"
        text += "  " + pad("COMMAND", commandWidth) + " " + pad("ACTION", actionWidth) + " REPLY\n"
        for row in table.rows {
            switch row {
            case .exchange(let exchange):
                var action = exchange.action ?? ""
                if let rule = exchange.rule { action += " [\(rule)]" }
                var reply = exchange.reply ?? "(no reply)"
                if exchange.replyIsLocal { reply += " (proxy)" }
                if !exchange.replyRules.isEmpty { reply += " [" + exchange.replyRules.joined(separator: ", ") + "]" }
                text += "  " + pad(truncate(exchange.command, commandWidth), commandWidth) + " "
                    + pad(action, actionWidth) + " " + truncate(reply, replyWidth) + "\n"
                for stripped in exchange.stripped {
                    text += "    stripped \(stripped)\n"
                }
            case .message(let line), .note(let line):
                text += "  " + line + "\n"
            }
        }
        if !table.ruleHits.isEmpty {
            text += "  rules fired: " + table.ruleOrder.map { "\($0) ×\(table.ruleHits[$0]!)" }.joined(separator: ", ") + "\n"
        }
        if table.anomalyCount > 0 {
            text += "  anomalies: \(table.anomalyCount)\n"
        }
        if let end = table.end {
            text += "  result: \(end.reason); \(end.commands) command\(end.commands == 1 ? "" : "s"), "
                + "\(end.messages) message\(end.messages == 1 ? "" : "s"); \(end.bytesFromClient) octets from the client, "
                + "\(end.bytesFromServer) from the server; TLS \(end.tls)\n"
        } else {
            text += "  result: (session not finished)\n"
        }
        return text + "\n"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        let count = text.count
        return count >= width ? text : text + String(repeating: " ", count: width - count)
    }

    private func truncate(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(width - 1)) + "…"
    }
}
