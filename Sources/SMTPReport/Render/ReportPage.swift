/// The whole report as one self-contained HTML document: inline CSS, inline SVG charts, the
/// sessions as JSON in a `<script type="application/json">` block and a small inline script that
/// pages the session list and draws one ladder at a time. Nothing is fetched: it opens from disk.
public struct ReportPage: Sendable {
    public var title: String
    public var inputs: [String]
    public var sessions: [ReportSession]

    public init(title: String = "smtp-inspect audit report", inputs: [String], sessions: [ReportSession]) {
        self.title = title
        self.inputs = inputs
        self.sessions = sessions
    }

    public func html() -> String {
        let overview = ReportOverview(sessions: sessions)
        var encoder = ReportDataEncoder()
        let data = encoder.encode(sessions, overview: overview)
        let inputList = inputs.map { DisplayText.html($0, limit: 200) }.joined(separator: ", ")
        var out = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
            <title>\(DisplayText.html(title))</title>
            <style>\(ReportStyle.css)</style>
            <script>\(ReportScript.errorCatcher)</script>
            </head><body>
            <header><h1>\(DisplayText.html(title))</h1><p class="inputs">\(inputList)</p>
            <nav class="tabs"><button type="button" data-tab="overview" class="active">Overview</button><button type="button" data-tab="sessions">Sessions <span class="count">\(sessions.count)</span></button></nav></header>
            <main>
            """
        out += OverviewSection(overview: overview).html()
        out += """
            <section id="sessions" class="tab-panel" hidden>
            <form id="filters" class="filters" autocomplete="off" onsubmit="return false">
            <label>Address <input id="f-address" type="search" placeholder="client or server"></label>
            <label>Sender <input id="f-sender" type="search" placeholder="MAIL FROM"></label>
            <label>Recipient <input id="f-recipient" type="search" placeholder="RCPT TO"></label>
            <label>Rule <select id="f-rule"><option value="">any</option></select></label>
            <label>Anomaly <select id="f-anomaly"><option value="">any</option></select></label>
            <label>Reply class <select id="f-class"><option value="">any</option><option value="2">2xx</option><option value="3">3xx</option><option value="4">4xx</option><option value="5">5xx</option></select></label>
            <button type="button" id="f-clear">Clear</button>
            </form>
            <div class="split">
            <div class="list-pane"><div id="list-status" class="list-status"></div>
            <table id="session-list"><colgroup><col class="c-id"><col class="c-client"><col class="c-sender"><col class="c-msgs"><col class="c-flags"></colgroup><thead><tr><th>Session</th><th>Client</th><th>Sender</th><th title="messages">#</th><th>Flags</th></tr></thead><tbody></tbody></table>
            <div class="pager"><button type="button" id="page-prev">‹ Previous</button><span id="page-info"></span><button type="button" id="page-next">Next ›</button></div></div>
            <div id="detail" class="detail-pane"><p class="empty">No session selected.</p></div>
            </div></section>
            </main>
            <footer>Made by <code>smtp-inspect report</code>. Times are UTC. Message bodies and AUTH secrets are never part of this page.<span id="render-time"></span></footer>
            <div id="script-errors" hidden></div>
            <script type="application/json" id="report-data">
            """
        out += data
        out += "</script>\n<script>" + ReportScript.main + "</script>\n</body></html>\n"
        return out
    }
}
