/// The totals at the top of the report, over every session.
public struct ReportOverview: Sendable, Equatable {
    public var sessions = 0
    public var messages = 0
    public var messageBytes = 0
    public var bytesFromClient = 0
    public var bytesFromServer = 0
    /// Microseconds since the epoch of the first and last event (nil without sessions).
    public var firstEvent: Int64?
    public var lastEvent: Int64?
    /// MAIL FROM and RCPT TO addresses, one per command.
    public var senders = Tally()
    public var recipients = Tally()
    /// Sessions per client address (without port).
    public var clients = Tally()
    /// Commands by verb, and by verb and action (`VRFY reject`).
    public var verbs = Tally()
    public var verbActions: [String: Tally] = [:]
    /// Rule hits: commands decided, replies matched, keywords stripped.
    public var rules = Tally()
    /// Reply classes (`2xx` …) from the server and made by smtp-inspect.
    public var serverReplies = Tally()
    public var localReplies = Tally()
    public var anomalies = Tally()

    public init(sessions list: [ReportSession]) {
        sessions = list.count
        for session in list {
            firstEvent = min(firstEvent ?? session.start, session.start)
            lastEvent = max(lastEvent ?? session.end, session.end)
            clients.add(session.clientHost.isEmpty ? "(unknown)" : session.clientHost)
            bytesFromClient += session.bytesFromClient
            bytesFromServer += session.bytesFromServer
            for event in session.events { add(event) }
        }
    }

    private mutating func add(_ event: LoggedEvent) {
        switch event.event {
        case "command":
            let verb = event.verb ?? "?"
            let action = event.action ?? "?"
            verbs.add(verb)
            verbActions[verb, default: Tally()].add(action)
            if let rule = event.rule { rules.add(rule) }
            if verb == "MAIL" || verb == "RCPT", let address = EnvelopeAddress.parse(event.arg ?? "") {
                if verb == "MAIL" { senders.add(address) } else { recipients.add(address) }
            }
        case "reply":
            let code = event.code ?? 0
            let replyClass = (1...5).contains(code / 100) ? "\(code / 100)xx" : "other"
            if event.local == true { localReplies.add(replyClass) } else { serverReplies.add(replyClass) }
            for rule in event.rules ?? [] { rules.add(rule) }
            for item in event.stripped ?? [] { rules.add(item.rule ?? "?") }
        case "message":
            messages += 1
            messageBytes += event.size ?? 0
        case "anomaly":
            anomalies.add(event.kind ?? "unknown")
        default:
            break
        }
    }
}
