/// One SMTP session as the report shows it: its endpoints, its events in order (the ladder), and
/// what the search in the page filters on.
public struct ReportSession: Sendable, Equatable {
    public var id: String
    public var client: String = ""
    public var server: String = ""
    public var source: String = ""
    /// Microseconds since the epoch of the first and last event.
    public var start: Int64
    public var end: Int64
    /// Every event after `session-start`, in log order.
    public var events: [LoggedEvent] = []
    /// Envelope addresses seen in MAIL FROM / RCPT TO commands and `message` events.
    public var senders: Set<String> = []
    public var recipients: Set<String> = []
    /// Rules that decided a command, matched a reply or stripped a keyword.
    public var rules: Set<String> = []
    public var anomalies: Set<String> = []
    /// Reply code classes present: 2 for 2xx … 5 for 5xx.
    public var replyClasses: Set<Int> = []
    public var messages = 0
    public var bytesFromClient = 0
    public var bytesFromServer = 0
    /// `session-end`'s reason, nil when the log ends before the session does.
    public var endReason: String?
    public var tls: String?

    public init(id: String, start: Int64) {
        self.id = id
        self.start = start
        self.end = start
    }

    /// The client's address without its port (`127.0.0.1`, `::1`).
    public var clientHost: String { Self.host(of: client) }

    static func host(of endpoint: String) -> String {
        if endpoint.hasPrefix("["), let close = endpoint.firstIndex(of: "]") {
            return String(endpoint[endpoint.index(after: endpoint.startIndex)..<close])
        }
        guard let colon = endpoint.lastIndex(of: ":") else { return endpoint }
        return String(endpoint[..<colon])
    }

    /// Takes in one event of this session.
    mutating func add(_ event: LoggedEvent, at time: Int64) {
        end = max(end, time)
        switch event.event {
        case "session-start":
            client = event.client ?? client
            server = event.server ?? server
            source = event.source ?? source
            return
        case "command":
            if let rule = event.rule { rules.insert(rule) }
            let verb = event.verb ?? ""
            if verb == "MAIL" || verb == "RCPT", let address = EnvelopeAddress.parse(event.arg ?? "") {
                if verb == "MAIL" { senders.insert(address) } else { recipients.insert(address) }
            }
        case "reply":
            if let code = event.code, (1...5).contains(code / 100) { replyClasses.insert(code / 100) }
            for rule in event.rules ?? [] { rules.insert(rule) }
            for item in event.stripped ?? [] { if let rule = item.rule { rules.insert(rule) } }
        case "message":
            messages += 1
            if let from = event.mailFrom { senders.insert(from) }
            for address in event.rcptTo ?? [] { recipients.insert(address) }
        case "anomaly":
            anomalies.insert(event.kind ?? "unknown")
        case "session-end":
            endReason = event.reason ?? "unknown"
            tls = event.tls
            bytesFromClient = event.bytesFromClient ?? 0
            bytesFromServer = event.bytesFromServer ?? 0
        default:
            break
        }
        events.append(event)
    }
}
