extension AuditEvent {
    /// The event as one line of JSON (no trailing newline), fields in a stable order:
    ///
    ///     {"ts":"2026-11-29T08:18:58.000000Z","session":"s1","event":"command","verb":"VRFY",
    ///      "arg":"root","action":"reject","rule":"no-vrfy","forwarded":null}
    public var jsonLine: String {
        var bytes: [UInt8] = []
        appendJSONLine(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends each event's `jsonLine` and a newline to `out`: the one writer of audit log lines
    /// (the proxy's `AuditLogWriter` and `replay --format json` both call it).
    public static func appendJSONLines(_ events: some Sequence<AuditEvent>, to out: inout [UInt8]) {
        for event in events {
            event.appendJSONLine(to: &out)
            out.append(UInt8(ascii: "\n"))
        }
    }

    /// Appends `jsonLine`'s UTF-8 bytes to `out` (no newline), without building a String.
    public func appendJSONLine(to out: inout [UInt8]) {
        var json = JSONLineWriter(continuing: &out)
        defer { json.finish(into: &out) }
        json.field("ts", timestamp)
        json.field("session", session)
        json.field("event", literal: nameLiteral)
        switch kind {
        case .sessionStart(let client, let server, let source):
            json.field("client", client.description)
            json.field("server", server.description)
            json.field("source", source)
        case .command(let record):
            json.field("verb", record.verb)
            json.field("arg", record.arg)
            json.field("action", record.action)
            json.field("rule", record.rule)
            json.field("forwarded", record.forwarded)
            if let policy = record.policy { json.field("policy", policy) }
        case .reply(let record):
            json.field("code", record.code)
            json.field("text", record.text)
            json.field("for", record.forVerb)
            json.field("local", record.local)
            if !record.rules.isEmpty { json.field("rules", record.rules) }
            if !record.stripped.isEmpty {
                var list = "["
                for (index, item) in record.stripped.enumerated() {
                    var entry = JSONLineWriter()
                    entry.field("keyword", item.keyword)
                    entry.field("rule", item.rule)
                    entry.field("action", literal: record.dryRun ? "would-strip" : "strip")
                    list += (index > 0 ? "," : "") + entry.finish()
                }
                json.rawField("stripped", list + "]")
            }
        case .message(let record):
            json.field("mail_from", record.mailFrom)
            json.field("rcpt_to", record.rcptTo)
            json.field("size", record.size)
            json.field("result", record.result)
            json.field("message_id", record.messageID)
            json.field("subject", record.subject)
        case .anomaly(let kind, let detail):
            json.field("kind", kind.rawValue)
            json.field("detail", detail)
        case .sessionEnd(let summary):
            json.field("reason", summary.reason)
            json.field("bytes_from_client", summary.bytesFromClient)
            json.field("bytes_from_server", summary.bytesFromServer)
            json.field("commands", summary.commands)
            json.field("messages", summary.messages)
            json.field("tls", summary.tls)
        case .limit(let record):
            json.field("rule", record.rule)
            json.field("key", record.key)
            json.field("count", record.count)
            json.field("action", record.action)
            if let until = record.until { json.field("until", until) }
        case .milter(let record):
            json.field("milter", record.milter)
            json.field("stage", record.stage)
            json.field("verdict", record.verdict)
            json.field("reply", record.reply)
            // Kinds are a fixed vocabulary of ASCII names (MilterRecord): no escaping needed.
            var list = "{"
            for (index, item) in record.modifications.enumerated() {
                list += (index > 0 ? "," : "") + "\"\(item.kind)\":\(item.count)"
            }
            json.rawField("modifications", list + "}")
        }
    }
}
