import SMTPCore

/// One milter's answer at one stage, as the consultant combines and logs it.
struct MilterAnswer: Sendable {
    enum Decision: Sendable {
        /// `continue`, or the step needs no reply.
        case `continue`
        /// No more events for this message (at connect/HELO: the session).
        case accept
        /// Refused with this reply (reject, tempfail, replycode, or the on-error reply).
        case refuse(SMTPReply)
        /// Drop the message, answer the client 250.
        case discard
        /// Close the session (421).
        case shutdown
    }

    var milter: String
    /// `connect`, `helo`, `mail`, `rcpt`, `data`, `header`, `eoh`, `body`, `eom`.
    var stage: String
    var decision: Decision
    /// The audit `verdict`: `continue`, `accept`, `reject`, `tempfail`, `discard`, `replycode`,
    /// `shutdown` or `error`.
    var verdict: String
    /// The failure, for `error` (the first time only: later stages repeat the on-error verdict
    /// without a new anomaly).
    var error: MilterError?
    /// At end of message: the modifications asked for, in order.
    var modifications: [MilterResponse] = []
    /// How long the milter took to answer.
    var latency: Duration = .zero
    /// `SMFIP_HDR_LEADSPC` was negotiated: header modifications carry their own leading space.
    var headerLeadingSpace = false

    /// Nothing against going on (`continue`, or `skip` for the rest of a step's kind).
    var isContinue: Bool {
        if case .continue = decision { return true }
        return false
    }

    /// `SMFIR_SKIP`: no more events of this kind (body chunks, headers).
    var skipsRest: Bool { verdict == "skip" }

    /// The reply the milter asked for, for the audit event.
    var reply: SMTPReply? {
        if case .refuse(let reply) = decision { return reply }
        return nil
    }

    /// The `milter` audit record, with the modifications counted by kind.
    var record: MilterRecord {
        var counts: [String: Int] = [:]
        for modification in modifications {
            if let kind = Self.kind(of: modification) { counts[kind, default: 0] += 1 }
        }
        // A replacement body comes in many pieces: it is one modification.
        if counts["replace-body"] != nil { counts["replace-body"] = 1 }
        let order = [
            "add-header", "insert-header", "change-header", "delete-header", "replace-body", "change-from", "add-rcpt",
            "delete-rcpt", "quarantine",
        ]
        let list = order.compactMap { kind in counts[kind].map { MilterRecord.Modification(kind: kind, count: $0) } }
        let replyText = reply.map { reply in reply.lines.map { "\(reply.code) \($0)" }.joined(separator: " / ") }
        return MilterRecord(milter: milter, stage: stage, verdict: verdict, reply: replyText, modifications: list)
    }

    static func kind(of response: MilterResponse) -> String? {
        switch response {
        case .addHeader: "add-header"
        case .insertHeader: "insert-header"
        case .changeHeader(_, _, let value): value.isEmpty ? "delete-header" : "change-header"
        case .replaceBody: "replace-body"
        case .changeSender: "change-from"
        case .addRecipient: "add-rcpt"
        case .deleteRecipient: "delete-rcpt"
        case .quarantine: "quarantine"
        default: nil
        }
    }
}
