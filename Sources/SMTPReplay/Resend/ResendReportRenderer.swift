import SMTPCore

/// Writes `ResendResult`s as the `replay --to` report: a block per session (`table`), or JSON
/// lines (`json`). Reply texts are shown as the servers sent them; commands as the audit log
/// shows them (AUTH secrets redacted); client bytes never.
///
/// Table:
///
///     ── several-sessions.pcap#1  127.0.0.1:39396 → 127.0.0.1:40063  resent to 127.0.0.1:2526 ──
///       REPLY  COMMAND                          CAPTURED                                 NEW
///       #2     VRFY root                        252 2.0.0 root                           502 5.5.1 VRFY is disabled
///       #5     QUIT                             221 2.0.0 Bye                            (missing: closed)
///       +      (extra reply)                                                             421 4.7.0 Error: too many errors
///       result: differs; 6 captured replies, 6 received, 4 with the same code; 1 code differs, 1 missing, 1 extra
///
/// JSON, one object per line, every one with `ts` (when it was written), `session` and `event`:
/// - `resend-start`: `source`, `client`, `server` (the captured session), `to` (the target as
///   given), `connected` (the address connected to, or null).
/// - `resend-diff`: `kind` (`code` | `missing` | `extra`), `step` (the conversation step, from 0),
///   `captured_index` (the captured reply's number in the session, from 0 = greeting; null for
///   `extra`), `new_index` (the live reply's number; null for `missing`), `for` (the verb the
///   captured reply answers, null when unknown), `command` (that command line, AUTH redacted),
///   `captured_code`, `captured_text`, `new_code`, `new_text` (null where there is no such reply;
///   a code is null for a line without one), `reason` (for `missing`: `timeout`, `closed` or
///   `connection-failed`).
/// - `resend-note`: `kind` (`starttls`, `relay`, `gap`, `mid-stream`, `diverged`, `timeout`, `closed`,
///   `connection-failed`, `connect-failed`), `step`, `detail`.
/// - `resend-end`: `result` (`match` | `differ`), `steps`, `steps_sent`, `captured_replies`,
///   `new_replies`, `same_codes`, `code_differences`, `missing`, `extra`, `not_resent` (captured
///   replies of steps never sent because the server closed first).
public struct ResendReportRenderer: Sendable {
    public var commandWidth = 32
    public var replyWidth = 40

    public init() {}

    public func render(_ result: ResendResult, format: ReplayFormat) -> String {
        format == .json ? jsonLines(result) : table(result)
    }

    // MARK: - Table

    public func table(_ result: ResendResult) -> String {
        var text = "── \(result.session)  \(result.client) → \(result.server)  resent to \(result.target)"
        if let connected = result.connectedTo, connected != result.target { text += " (\(connected))" }
        text += " ──\n"
        if !result.differences.isEmpty {
            text += "  " + pad("REPLY", 6) + " " + pad("COMMAND", commandWidth) + " " + pad("CAPTURED", replyWidth) + " NEW\n"
            for difference in result.differences {
                let number = difference.capturedIndex.map { "#\($0)" } ?? "+"
                let command = difference.kind == .extra ? "(extra reply)" : difference.command ?? difference.verb ?? "(unsolicited)"
                let captured = difference.captured?.description ?? ""
                let received = difference.received?.description ?? "(missing: \(difference.reason ?? "?"))"
                text += "  " + pad(number, 6) + " " + pad(truncate(command, commandWidth), commandWidth) + " "
                    + pad(truncate(captured, replyWidth), replyWidth) + " " + truncate(received, 80) + "\n"
            }
        }
        for note in result.notes {
            text += "  ! \(note.kind.rawValue)" + (note.step.map { " (step \($0))" } ?? "") + ": \(note.detail)\n"
        }
        text += "  result: \(result.matches ? "same codes" : "differs"); \(result.capturedReplies) captured "
            + "repl\(result.capturedReplies == 1 ? "y" : "ies"), \(result.receivedReplies) received, "
            + "\(result.sameCodes) with the same code"
        if !result.differences.isEmpty {
            text += "; \(result.count(.code)) code\(result.count(.code) == 1 ? " differs" : "s differ"), "
                + "\(result.count(.missing)) missing, \(result.count(.extra)) extra"
        }
        if result.notResent > 0 { text += "; \(result.notResent) not resent" }
        return text + "\n\n"
    }

    /// `captures/x.pcap: 4 SMTP sessions resent to 127.0.0.1:2525: 3 with the same reply codes, 1 with differences`
    public func fileSummary(path: String, target: String, sessions: Int, differing: Int) -> String {
        "\(path): \(sessions) SMTP session\(sessions == 1 ? "" : "s") resent to \(target): "
            + "\(sessions - differing) with the same reply codes, \(differing) with differences\n"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private func truncate(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(width - 1)) + "…"
    }

    // MARK: - JSON

    public func jsonLines(_ result: ResendResult) -> String {
        var lines = ""
        var start = header(result, "resend-start", at: result.startedAt)
        start.field("source", result.source)
        start.field("client", result.client.description)
        start.field("server", result.server.description)
        start.field("to", result.target)
        start.field("connected", result.connectedTo)
        lines += start.finish() + "\n"
        for difference in result.differences {
            var line = header(result, "resend-diff", at: result.endedAt)
            line.field("kind", difference.kind.rawValue)
            line.field("step", difference.step)
            line.field("captured_index", difference.capturedIndex)
            line.field("new_index", difference.receivedIndex)
            line.field("for", difference.verb)
            line.field("command", difference.command)
            line.field("captured_code", difference.captured?.code)
            line.field("captured_text", difference.captured?.text)
            line.field("new_code", difference.received?.code)
            line.field("new_text", difference.received?.text)
            line.field("reason", difference.reason)
            lines += line.finish() + "\n"
        }
        for note in result.notes {
            var line = header(result, "resend-note", at: result.endedAt)
            line.field("kind", note.kind.rawValue)
            line.field("step", note.step)
            line.field("detail", note.detail)
            lines += line.finish() + "\n"
        }
        var end = header(result, "resend-end", at: result.endedAt)
        end.field("result", result.matches ? "match" : "differ")
        end.field("steps", result.steps)
        end.field("steps_sent", result.stepsSent)
        end.field("captured_replies", result.capturedReplies)
        end.field("new_replies", result.receivedReplies)
        end.field("same_codes", result.sameCodes)
        end.field("code_differences", result.count(.code))
        end.field("missing", result.count(.missing))
        end.field("extra", result.count(.extra))
        end.field("not_resent", result.notResent)
        lines += end.finish() + "\n"
        return lines
    }

    private func header(_ result: ResendResult, _ event: String, at time: SMTPTimestamp) -> JSONLineWriter {
        var object = JSONLineWriter()
        object.field("ts", time)
        object.field("session", result.session)
        object.field("event", event)
        return object
    }
}
