import SMTPCore

/// The sessions as the compact JSON the page's script reads. Every string is stored once in a
/// table and referred to by its index (-1 for none), sessions and ladder steps are positional
/// arrays, times are microseconds (a session's start since the epoch, its steps since its start):
/// a 10,000-session log stays a few megabytes.
///
/// The positions are defined once, in `ReportData.LAYOUT` at the top of `Resources/report.js`
/// (session fields, then one list per step kind); `ReportDataLayoutTests` runs that file's reader
/// in node on this encoder's output, so the two cannot drift apart.
struct ReportDataEncoder {
    var stepLimit = 2_000
    private var strings: [String] = []
    private var index: [String: Int] = [:]

    init(stepLimit: Int = 2_000) {
        self.stepLimit = stepLimit
    }

    mutating func encode(_ sessions: [ReportSession], overview: ReportOverview) -> String {
        var body = "\"sessions\":["
        body.reserveCapacity(sessions.count * 400)
        for (position, session) in sessions.enumerated() {
            if position > 0 { body += ",\n" }
            body += encode(session)
        }
        body += "]"
        let rules = overview.rules.top(Int.max).map { id($0.key) }
        let anomalies = overview.anomalies.top(Int.max).map { id($0.key) }
        var head = "{\"strings\":["
        for (position, string) in strings.enumerated() {
            if position > 0 { head += "," }
            JSONLineWriter.appendQuoted(string, to: &head, htmlSafe: true)
        }
        head += "],\"rules\":" + list(rules) + ",\"anomalies\":" + list(anomalies) + ","
        return head + body + "}"
    }

    private mutating func id(_ string: String?) -> Int {
        guard let string else { return -1 }
        let clean = DisplayText.clean(string)
        if let known = index[clean] { return known }
        index[clean] = strings.count
        strings.append(clean)
        return strings.count - 1
    }

    private func list(_ values: [Int]) -> String {
        "[" + values.map(String.init).joined(separator: ",") + "]"
    }

    private mutating func ids(_ values: some Sequence<String>) -> String {
        list(values.sorted().map { id($0) })
    }

    private mutating func encode(_ session: ReportSession) -> String {
        let classMask = session.replyClasses.reduce(0) { $0 | (1 << $1) }
        let fields: [String] = [
            String(id(session.id)), String(id(session.client)), String(id(session.server)), String(id(session.source)),
            String(session.start), String(session.end - session.start), String(id(session.endReason)), String(id(session.tls)),
            String(session.messages), String(session.bytesFromClient), String(session.bytesFromServer),
            ids(session.senders), ids(session.recipients), ids(session.rules), ids(session.anomalies), String(classMask),
        ]
        var out = "[" + fields.joined(separator: ",") + ",["
        var written = 0
        for event in session.events {
            let time = (RFC3339.microseconds(event.ts) ?? session.start) - session.start
            if written == stepLimit {
                out += ",[5,\(time),\(session.events.count - written)]"
                break
            }
            guard let step = step(event, time: time) else { continue }
            out += (written > 0 ? "," : "") + step
            written += 1
        }
        return out + "]]"
    }

    private mutating func step(_ event: LoggedEvent, time: Int64) -> String? {
        switch event.event {
        case "command":
            return "[0,\(time),\(id(event.verb ?? "?")),\(id(event.arg ?? "")),\(id(event.action ?? "?")),\(id(event.rule)),\(id(event.forwarded))]"
        case "reply":
            let rules = list((event.rules ?? []).map { id($0) })
            let stripped = (event.stripped ?? []).map { "[\(id($0.keyword)),\(id($0.rule)),\(id($0.action))]" }
            return "[1,\(time),\(event.code ?? 0),\(id(event.text ?? "")),\(id(event.forVerb)),\(event.local == true ? 1 : 0),\(rules),["
                + stripped.joined(separator: ",") + "]]"
        case "message":
            let recipients = list((event.rcptTo ?? []).map { id($0) })
            return "[2,\(time),\(id(event.mailFrom ?? "")),\(recipients),\(event.size ?? 0),\(event.result ?? -1),\(id(event.subject))]"
        case "anomaly":
            return "[3,\(time),\(id(event.kind ?? "unknown")),\(id(event.detail ?? ""))]"
        case "session-end":
            return "[4,\(time),\(id(event.reason ?? "unknown")),\(id(event.tls)),\(event.bytesFromClient ?? 0),\(event.bytesFromServer ?? 0)]"
        default:
            return nil
        }
    }
}
