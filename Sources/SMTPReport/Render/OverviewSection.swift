/// The overview tab: totals as cards, then the charts (inline SVG, drawn here, no script needed).
struct OverviewSection {
    var overview: ReportOverview
    var top = 10

    func html() -> String {
        var out = "<section id=\"overview\" class=\"tab-panel\"><div class=\"cards\">"
        out += card("Sessions", "\(overview.sessions)", id: "stat-sessions")
        out += card("Messages", "\(overview.messages)", detail: DisplayText.bytes(overview.messageBytes) + " of message data", id: "stat-messages")
        out += card("Bytes", DisplayText.bytes(overview.bytesFromClient + overview.bytesFromServer),
            detail: "client \(DisplayText.bytes(overview.bytesFromClient)) · server \(DisplayText.bytes(overview.bytesFromServer))", id: "stat-bytes")
        if let first = overview.firstEvent, let last = overview.lastEvent {
            out += card("Time span", RFC3339.duration(last - first),
                detail: "\(RFC3339.display(first)) – \(RFC3339.display(last)) UTC", id: "stat-span")
        } else {
            out += card("Time span", "–", id: "stat-span")
        }
        out += "</div><div class=\"charts\">"
        for chart in charts() { out += chart.html() }
        return out + "</div></section>"
    }

    private func card(_ title: String, _ value: String, detail: String? = nil, id: String) -> String {
        "<div class=\"card\" id=\"\(id)\"><div class=\"card-title\">\(title)</div><div class=\"card-value\">\(DisplayText.html(value))</div>"
            + (detail.map { "<div class=\"card-detail\">\(DisplayText.html($0))</div>" } ?? "") + "</div>"
    }

    func charts() -> [BarChart] {
        [
            simple("Top senders (MAIL FROM)", overview.senders, filter: "sender"),
            simple("Top recipients (RCPT TO)", overview.recipients, filter: "recipient"),
            simple("Top client addresses (sessions)", overview.clients, filter: "address"),
            commands(),
            simple("Rule hits", overview.rules, filter: "rule", style: "rule"),
            replies(),
            simple("Anomalies", overview.anomalies, filter: "anomaly", style: "anomaly"),
        ]
    }

    private func simple(_ title: String, _ tally: Tally, filter: String, style: String = "plain") -> BarChart {
        BarChart(title: title, rows: tally.top(top).map {
            BarChart.Row(label: $0.key, segments: [.init(value: $0.count, style: style)], filter: (filter, $0.key))
        })
    }

    /// The action styles in legend order; `would-…` actions share one.
    static let actions: [(style: String, text: String)] = [
        ("act-forward", "forward"), ("act-reject", "reject"), ("act-rewrite", "rewrite"),
        ("act-disconnect", "disconnect"), ("act-would", "would-… (dry run)"),
    ]

    static func actionStyle(_ action: String) -> String {
        action.hasPrefix("would-") ? "act-would" : actions.first { $0.text == action }?.style ?? "act-forward"
    }

    private func commands() -> BarChart {
        let rows = overview.verbs.top(12).map { verb in
            var byStyle: [String: Int] = [:]
            for (action, count) in overview.verbActions[verb.key]?.counts ?? [:] { byStyle[Self.actionStyle(action), default: 0] += count }
            return BarChart.Row(label: verb.key, segments: Self.actions.map { .init(value: byStyle[$0.style] ?? 0, style: $0.style) })
        }
        var title = "Commands by verb and action"
        if overview.verbs.counts.count > 12 { title += " (top 12 of \(overview.verbs.counts.count) verbs)" }
        return BarChart(title: title, rows: rows, legend: Self.actions)
    }

    private func replies() -> BarChart {
        let classes = ["2xx", "3xx", "4xx", "5xx", "other"].filter { overview.serverReplies[$0] + overview.localReplies[$0] > 0 }
        let rows = classes.map { replyClass in
            BarChart.Row(
                label: replyClass,
                segments: [.init(value: overview.serverReplies[replyClass], style: "reply-server"), .init(value: overview.localReplies[replyClass], style: "reply-local")],
                filter: replyClass == "other" ? nil : ("class", String(replyClass.prefix(1))))
        }
        return BarChart(title: "Reply codes by class", rows: rows, legend: [("reply-server", "from the server"), ("reply-local", "by smtp-inspect")])
    }
}
