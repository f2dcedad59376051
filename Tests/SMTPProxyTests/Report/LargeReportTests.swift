import Foundation
import Testing

/// 10,000 sessions: the page stays a few megabytes and the browser's DOM one page of the list
/// plus one ladder, and the search still finds the right sessions.
@Suite(.serialized)
struct LargeReportTests {
    static let sessions = 10_000

    /// A JSON-lines log of `count` sessions: every 7th has a VRFY refused by `no-vrfy`, every
    /// 11th a bare-lf anomaly, every 13th a 550 for its recipient; 250 client addresses and
    /// 400 senders.
    static func log(sessions count: Int) -> String {
        var out = ""
        out.reserveCapacity(count * 2_400)
        for n in 0..<count {
            let id = "live-\(n)"
            // One session every 2 s from midnight (10,000 fit in a day); offsets in microseconds.
            func ts(_ offset: Int) -> String {
                let t = n * 2 + offset / 1_000_000
                func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
                let micro = String(offset % 1_000_000 + 1_000_000).dropFirst()
                return "2026-11-29T\(two(t / 3600)):\(two(t / 60 % 60)):\(two(t % 60)).\(micro)Z"
            }
            func line(_ offset: Int, _ event: String, _ fields: String) {
                out += "{\"ts\":\"\(ts(offset))\",\"session\":\"\(id)\",\"event\":\"\(event)\",\(fields)}\n"
            }
            let client = "192.0.2.\(n % 250 + 1):\(40_000 + n % 20_000)"
            let sender = "user\(n % 400)@example.net"
            line(0, "session-start", "\"client\":\"\(client)\",\"server\":\"10.0.0.25:25\",\"source\":\"live\"")
            line(900, "reply", "\"code\":220,\"text\":\"mx.example.org ESMTP\",\"for\":\"greeting\",\"local\":false")
            line(2_000, "command", "\"verb\":\"EHLO\",\"arg\":\"client\(n % 250).example.net\",\"action\":\"forward\",\"rule\":null,\"forwarded\":null")
            line(2_500, "reply", "\"code\":250,\"text\":\"mx.example.org\",\"for\":\"EHLO\",\"local\":false")
            if n % 7 == 0 {
                line(3_000, "command", "\"verb\":\"VRFY\",\"arg\":\"root\",\"action\":\"reject\",\"rule\":\"no-vrfy\",\"forwarded\":null")
                line(3_000, "reply", "\"code\":502,\"text\":\"5.5.1 VRFY is disabled\",\"for\":\"VRFY\",\"local\":true")
            }
            line(4_000, "command", "\"verb\":\"MAIL\",\"arg\":\"FROM:<\(sender)>\",\"action\":\"forward\",\"rule\":null,\"forwarded\":null")
            line(4_400, "reply", "\"code\":250,\"text\":\"2.1.0 Ok\",\"for\":\"MAIL\",\"local\":false")
            line(5_000, "command", "\"verb\":\"RCPT\",\"arg\":\"TO:<rcpt\(n % 900)@example.org>\",\"action\":\"forward\",\"rule\":null,\"forwarded\":null")
            let refused = n % 13 == 0
            line(5_600, "reply", refused
                ? "\"code\":550,\"text\":\"5.1.1 User unknown\",\"for\":\"RCPT\",\"local\":false"
                : "\"code\":250,\"text\":\"2.1.5 Ok\",\"for\":\"RCPT\",\"local\":false")
            if !refused {
                line(6_000, "command", "\"verb\":\"DATA\",\"arg\":\"\",\"action\":\"forward\",\"rule\":null,\"forwarded\":null")
                line(6_300, "reply", "\"code\":354,\"text\":\"End data with <CR><LF>.<CR><LF>\",\"for\":\"DATA\",\"local\":false")
                if n % 11 == 0 { line(7_000, "anomaly", "\"kind\":\"bare-lf\",\"detail\":\"bare <LF> in DATA, forwarded as <CR><LF>\"") }
                line(9_000, "message", "\"mail_from\":\"\(sender)\",\"rcpt_to\":[\"rcpt\(n % 900)@example.org\"],\"size\":\(1_000 + n % 5_000),\"result\":250,\"message_id\":null,\"subject\":null")
                line(9_000, "reply", "\"code\":250,\"text\":\"2.0.0 Ok: queued as Q\(n)\",\"for\":\".\",\"local\":false")
            }
            line(10_000, "command", "\"verb\":\"QUIT\",\"arg\":\"\",\"action\":\"forward\",\"rule\":null,\"forwarded\":null")
            line(10_300, "reply", "\"code\":221,\"text\":\"2.0.0 Bye\",\"for\":\"QUIT\",\"local\":false")
            line(10_500, "session-end", "\"reason\":\"quit\",\"bytes_from_client\":\(1_200 + n % 5_000),\"bytes_from_server\":420,\"commands\":5,\"messages\":\(refused ? 0 : 1),\"tls\":\"none\"")
        }
        return out
    }

    @Test func tenThousandSessionsStayBounded() throws {
        let workspace = try ReportWorkspace()
        let log = workspace.file("audit.jsonl")
        try Data(Self.log(sessions: Self.sessions).utf8).write(to: URL(fileURLWithPath: log))
        let started = Date()
        let page = try workspace.report([log])
        let generation = Date().timeIntervalSince(started)
        let size = try FileManager.default.attributesOfItem(atPath: page)[.size] as? Int ?? 0
        #expect(size > 500_000 && size < 8_000_000, "page of \(size) bytes")

        let loaded = try HeadlessChromium.dumpDOM(page)
        let dom = loaded.dom
        #expect(loaded.caughtErrors.isEmpty && loaded.uncaughtErrors.isEmpty, "\(loaded.caughtErrors) \(loaded.uncaughtErrors)")
        #expect(dom.contains("data-ready=\"true\""))
        #expect(dom.contains("<span class=\"count\">10000</span>"))
        #expect(dom.contains("id=\"list-status\" class=\"list-status\">10000 sessions<"))
        #expect(dom.contains("1–50 of 10000"))
        #expect(occurrences(of: "<tr data-index=", in: dom) == 50)
        // The markup outside the data block: one page of rows, one ladder, the charts.
        let markup = dom.replacingOccurrences(of: #"<script type="application/json" id="report-data">[\s\S]*?</script>"#, with: "", options: .regularExpression)
        let elements = occurrences(of: "<", in: markup) - occurrences(of: "</", in: markup)
        #expect(elements < 2_500, "\(elements) elements")
        let renderMilliseconds = Self.attribute("data-ms", in: dom)
        print("report of \(Self.sessions) sessions: \(size) bytes, written in \(String(format: "%.1f", generation)) s; chromium --dump-dom \(String(format: "%.1f", loaded.seconds)) s, script \(renderMilliseconds ?? "?") ms, \(elements) elements")
        #expect(loaded.seconds < 60)

        // The search, through a link: every 7th session had VRFY refused by no-vrfy.
        let vrfy = try HeadlessChromium.dumpDOM(page, fragment: "rule=no-vrfy")
        #expect(vrfy.dom.contains(">\((Self.sessions + 6) / 7) of 10000 sessions match<"))
        #expect(vrfy.dom.contains("data-session=\"live-7\""))
        let senderAndClass = try HeadlessChromium.dumpDOM(page, fragment: "sender=user13%40&class=5")
        // user13@ sends in sessions 13, 413, 813, …; those that are multiples of 7 or 13 got a 5xx.
        let expected = stride(from: 13, to: Self.sessions, by: 400).filter { $0 % 7 == 0 || $0 % 13 == 0 }.count
        #expect(senderAndClass.dom.contains(">\(expected) of 10000 sessions match<"))
        let anomaly = try HeadlessChromium.dumpDOM(page, fragment: "anomaly=bare-lf&address=192.0.2.12:")
        let bareLF = (0..<Self.sessions).filter { $0 % 11 == 0 && $0 % 13 != 0 && $0 % 250 == 11 }.count
        #expect(anomaly.dom.contains(">\(bareLF) of 10000 sessions match<"))
    }

    static func attribute(_ name: String, in dom: String) -> String? {
        guard let start = dom.range(of: name + "=\"") else { return nil }
        return String(dom[start.upperBound...].prefix { $0 != "\"" })
    }
}
