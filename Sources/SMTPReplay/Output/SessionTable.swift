import SMTPCore

/// The rows of one session's block, built from its events (see `SessionTableRenderer`).
struct SessionTable: Sendable {
    struct Start: Sendable {
        var client: String
        var server: String
        var source: String
        var time: String
    }

    struct Exchange: Sendable {
        var command: String
        var verb: String
        var action: String?
        var rule: String?
        var reply: String?
        var replyCode: Int?
        var replyIsLocal = false
        var replyRules: [String] = []
        var stripped: [String] = []
    }

    enum Row: Sendable {
        case exchange(Exchange)
        case message(String)
        case note(String)
    }

    let id: String
    var start: Start?
    var end: SessionSummary?
    var rows: [Row] = []
    /// Rows of commands still waiting for their reply, in pipeline order.
    private var awaiting: [Int] = []
    /// The row the greeting's reply goes to.
    private var greetingRow: Int?
    var ruleHits: [String: Int] = [:]
    var ruleOrder: [String] = []
    var anomalyCount = 0

    init(id: String) {
        self.id = id
    }

    mutating func add(_ event: AuditEvent) {
        switch event.kind {
        case .sessionStart(let client, let server, let source):
            start = Start(client: client.description, server: server.description, source: source, time: event.timestamp.rfc3339)
            greetingRow = rows.count
            rows.append(.exchange(Exchange(command: "(greeting)", verb: "greeting")))
        case .command(let record):
            let text = record.arg.isEmpty ? record.verb : "\(record.verb) \(record.arg)"
            rows.append(.exchange(Exchange(command: text.isEmpty ? "(empty line)" : text, verb: record.verb, action: record.action, rule: record.rule)))
            awaiting.append(rows.count - 1)
            if let rule = record.rule { hit(rule) }
        case .reply(let record):
            addReply(record)
        case .message(let record):
            var line = "message  <\(record.mailFrom)> → " + record.rcptTo.map { "<\($0)>" }.joined(separator: ", ")
            line += "  \(record.size) octets  result \(record.result.map(String.init) ?? "none")"
            if let subject = record.subject { line += "  subject \"\(subject.prefix(60))\"" }
            rows.append(.message(line))
        case .anomaly(let kind, let detail):
            anomalyCount += 1
            rows.append(.note("! \(kind.rawValue)  \(detail.prefix(160))"))
        case .sessionEnd(let summary):
            end = summary
        case .limit(let record):
            hit(record.rule)
            rows.append(.note("limit \(record.rule)  \(record.key)  count \(record.count)  \(record.action)"))
        case .milter(let record):
            rows.append(.note("milter \(record.milter)  \(record.stage)  \(record.verdict)" + (record.reply.map { "  \($0)" } ?? "")))
        }
    }

    private mutating func addReply(_ record: ReplyRecord) {
        let text = "\(record.code) \(record.text)"
        for rule in record.rules { hit(rule) }
        for item in record.stripped { hit(item.rule) }
        let stripped = record.stripped.map { "\($0.keyword) (\($0.rule))" }
        switch record.forVerb {
        case "greeting":
            let row = Exchange(command: "(greeting)", verb: "greeting", reply: text, replyCode: record.code, replyIsLocal: record.local, replyRules: record.rules)
            if let index = greetingRow {
                rows[index] = .exchange(row)
                greetingRow = nil
            } else {
                rows.append(.exchange(row))
            }
        case ".":
            // The end of data answers the message body: its row goes right after the DATA row.
            var row = Exchange(command: "(end of data)", verb: ".", reply: text, replyCode: record.code, replyIsLocal: record.local, replyRules: record.rules)
            row.stripped = stripped
            let index = rows.lastIndex { if case .exchange(let e) = $0 { return e.verb == "DATA" && e.replyCode == 354 } else { return false } }
            if let index {
                var insertAt = index + 1
                while insertAt < rows.count, case .exchange(let e) = rows[insertAt], e.verb == "." { insertAt += 1 }
                rows.insert(.exchange(row), at: insertAt)
                awaiting = awaiting.map { $0 >= insertAt ? $0 + 1 : $0 }
            } else {
                rows.append(.exchange(row))
            }
        case nil:
            rows.append(.exchange(Exchange(command: "(unsolicited)", verb: "", reply: text, replyCode: record.code, replyIsLocal: record.local, replyRules: record.rules)))
        default:
            guard !awaiting.isEmpty, case .exchange(var exchange) = rows[awaiting[0]] else {
                rows.append(.exchange(Exchange(command: "(reply to \(record.forVerb!))", verb: record.forVerb!, reply: text, replyCode: record.code, replyIsLocal: record.local, replyRules: record.rules)))
                return
            }
            let index = awaiting.removeFirst()
            exchange.reply = text
            exchange.replyCode = record.code
            exchange.replyIsLocal = record.local
            exchange.replyRules = record.rules
            exchange.stripped = stripped
            rows[index] = .exchange(exchange)
        }
    }

    private mutating func hit(_ rule: String) {
        if ruleHits[rule] == nil { ruleOrder.append(rule) }
        ruleHits[rule, default: 0] += 1
    }
}
