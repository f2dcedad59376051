import Foundation
import SMTPReport
import Testing

/// Reports of the shipped captures opened in a real headless Chromium: the DOM the script builds
/// must hold every session and, for each, one arrow per command and reply the engine produced;
/// no script error; a screenshot that shows something.
@Suite(.serialized)
struct ReportBrowserTests {
    /// several-sessions.pcap through filters/: session #1 is the scanner (VRFY, EXPN refused by
    /// no-vrfy-expn, XEXCH50 by exchange-hide-keywords), #2 the smuggling attempt.
    @Test func theScannersLadderStopsItsProbesAtTheProxy() throws {
        let workspace = try ReportWorkspace()
        let page = try workspace.report([ReportWorkspace.capture("several-sessions.pcap"), "--filters", ProxyHarness.shippedFilters])
        let loaded = try HeadlessChromium.dumpDOM(page, fragment: "session=several-sessions.pcap%231")
        let dom = loaded.dom
        #expect(dom.contains("data-ready=\"true\""), "the script did not finish")
        #expect(loaded.caughtErrors.isEmpty, "window.onerror: \(loaded.caughtErrors)")
        #expect(loaded.uncaughtErrors.isEmpty, "\(loaded.uncaughtErrors)")
        for index in 0..<4 {
            #expect(dom.contains("data-session=\"several-sessions.pcap#\(index)\""), "session #\(index) not listed")
        }
        #expect(dom.contains("<div id=\"detail\" class=\"detail-pane\" data-session=\"several-sessions.pcap#1\""))
        for verb in ["VRFY", "EXPN"] {
            #expect(dom.contains(
                "data-kind=\"command\" data-verb=\"\(verb)\" data-action=\"reject\" data-rule=\"no-vrfy-expn\" data-from=\"client\" data-to=\"proxy\""))
        }
        #expect(dom.contains(
            "data-kind=\"command\" data-verb=\"XEXCH50\" data-action=\"reject\" data-rule=\"exchange-hide-keywords\" data-from=\"client\" data-to=\"proxy\""))
        #expect(dom.contains("rejected by no-vrfy-expn"))
        // The three refusals are drawn back from the proxy, the greeting, EHLO and QUIT replies from the server.
        #expect(occurrences(of: "data-code=\"502\" data-for=\"VRFY\" data-local=\"true\" data-from=\"proxy\" data-to=\"client\"", in: dom) == 1)
        #expect(occurrences(of: "data-local=\"true\" data-from=\"proxy\"", in: dom) == 3)
        #expect(occurrences(of: "data-local=\"false\" data-from=\"server\"", in: dom) == 3)
        #expect(dom.contains("data-kind=\"anomaly\" data-anomaly=\"stripped-keyword-used\""))
        #expect(dom.contains("data-kind=\"end\" data-reason=\"quit\""))
        // The overview: four sessions, and no-vrfy-expn's two hits as a bar that searches for it.
        #expect(dom.contains("<div class=\"card\" id=\"stat-sessions\"><div class=\"card-title\">Sessions</div><div class=\"card-value\">4</div>"))
        #expect(dom.contains("data-filter=\"rule\" data-value=\"no-vrfy-expn\" tabindex=\"0\"><title>no-vrfy-expn: 2</title>"))
        #expect(dom.contains("data-filter=\"anomaly\" data-value=\"smuggling-attempt\""))
    }

    @Test func theSmugglingAttemptIsFlaggedAndTheBodyIsOneBar() throws {
        let workspace = try ReportWorkspace()
        let page = try workspace.report([ReportWorkspace.capture("several-sessions.pcap"), "--filters", ProxyHarness.shippedFilters])
        let dom = try HeadlessChromium.dumpDOM(page, fragment: "session=several-sessions.pcap%232").dom
        #expect(dom.contains("data-kind=\"anomaly\" data-anomaly=\"smuggling-attempt\""))
        #expect(dom.contains("data-kind=\"anomaly\" data-anomaly=\"bare-lf\""))
        #expect(occurrences(of: "data-kind=\"anomaly\" data-anomaly=\"unsolicited-reply\"", in: dom) == 4)
        #expect(occurrences(of: " unsolicited\" data-kind=\"reply\"", in: dom) == 4)
        #expect(occurrences(of: "data-kind=\"message\" data-size=\"130\"", in: dom) == 1)
        // The smuggled second message is body content: never on the page, nor in the file.
        let file = try String(contentsOfFile: page, encoding: .utf8)
        for content in ["wire the money", "ceo@example.org", "spoofed"] {
            #expect(!dom.contains(content) && !file.contains(content), "message content '\(content)' on the page")
        }
        // The smuggling anomaly comes after DATA's 354 and before the message bar.
        let order = ["data-for=\"DATA\"", "data-anomaly=\"smuggling-attempt\"", "data-kind=\"message\""].map { dom.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil } && order[0]! < order[1]! && order[1]! < order[2]!)
    }

    /// Every session of every shipped capture, in one report: the ladder has exactly one arrow
    /// per command and per reply event the replay produced for it.
    @Test func everyShippedSessionHasOneArrowPerCommandAndReply() throws {
        let workspace = try ReportWorkspace()
        let captures = try FileManager.default.contentsOfDirectory(atPath: ProxyHarness.repositoryRoot + "/captures")
            .filter { $0.hasSuffix(".pcap") }.sorted()
        #expect(captures.count >= 7)
        var expected: [(session: String, commands: Int, replies: Int)] = []
        for capture in captures {
            let events = try ReportWorkspace.replayEvents(capture)
            for session in SessionGrouping.sessions(from: events) {
                expected.append((session.id, session.events.filter { $0.event == "command" }.count, session.events.filter { $0.event == "reply" }.count))
            }
        }
        #expect(expected.count >= 11)
        let page = try workspace.report(captures.map(ReportWorkspace.capture) + ["--filters", ProxyHarness.shippedFilters])
        for (session, commands, replies) in expected {
            let fragment = "session=" + (session.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? session)
            let loaded = try HeadlessChromium.dumpDOM(page, fragment: fragment)
            let dom = loaded.dom
            #expect(dom.contains("data-session=\"\(session)\""), "\(session) not shown")
            #expect(occurrences(of: "data-kind=\"command\"", in: dom) == commands, "\(session): command arrows")
            #expect(occurrences(of: "data-kind=\"reply\"", in: dom) == replies, "\(session): reply arrows")
            #expect(loaded.caughtErrors.isEmpty && loaded.uncaughtErrors.isEmpty, "\(session): \(loaded.caughtErrors) \(loaded.uncaughtErrors)")
            #expect(dom.contains("<span class=\"count\">\(expected.count)</span>"))
        }
    }

    /// swaks-starttls.pcap with --tls strip: STARTTLS is crossed out of the EHLO reply and the
    /// client's STARTTLS stops at the proxy.
    @Test func strippedKeywordsAreCrossedOut() throws {
        let workspace = try ReportWorkspace()
        let page = try workspace.report([ReportWorkspace.capture("swaks-starttls.pcap"), "--tls", "strip"])
        let loaded = try HeadlessChromium.dumpDOM(page)
        #expect(loaded.dom.contains("<tspan class=\"stripped-kw\" data-keyword=\"STARTTLS\">STARTTLS</tspan>"))
        #expect(loaded.dom.contains("stripped by --tls strip"))
        #expect(loaded.dom.contains("data-verb=\"STARTTLS\" data-action=\"reject\" data-rule=\"--tls strip\" data-from=\"client\" data-to=\"proxy\""))
        #expect(loaded.caughtErrors.isEmpty && loaded.uncaughtErrors.isEmpty, "\(loaded.caughtErrors) \(loaded.uncaughtErrors)")
    }

    /// swaks-plain.pcap through a rule that rewrites alice's sender and one that strips
    /// PIPELINING: the MAIL arrow shows what was received and, past the proxy, what was forwarded.
    @Test func aRewrittenCommandShowsBeforeAndAfter() throws {
        let workspace = try ReportWorkspace()
        let rules = workspace.file("rules.yaml")
        try Data("""
            rules:
              - name: rename-alice
                command: MAIL
                argument: '(?i)^FROM:<alice@example\\.net>'
                action: rewrite
                replace: 'FROM:<alice@example.org>'
              - name: hide-pipelining
                ehlo-keyword: PIPELINING
                action: strip

            """.utf8).write(to: URL(fileURLWithPath: rules))
        let page = try workspace.report([ReportWorkspace.capture("swaks-plain.pcap"), "--filters", rules])
        let loaded = try HeadlessChromium.dumpDOM(page)
        let dom = loaded.dom
        #expect(dom.contains("data-verb=\"MAIL\" data-action=\"rewrite\" data-rule=\"rename-alice\" data-from=\"client\" data-to=\"server\""))
        #expect(dom.contains(">MAIL FROM:&lt;alice@example.net&gt;</text>"), "the command as received")
        #expect(dom.contains("<g class=\"fwd\" data-forwarded=\"MAIL FROM:<alice@example.org>\">")
            || dom.contains("<g class=\"fwd\" data-forwarded=\"MAIL FROM:&lt;alice@example.org&gt;\">"), "the command as forwarded")
        #expect(dom.contains("rewritten by rename-alice"))
        #expect(dom.contains("data-keyword=\"PIPELINING\">PIPELINING</tspan>"))
        #expect(dom.contains("stripped by hide-pipelining"))
        // The overview counts both rules.
        #expect(dom.contains("data-filter=\"rule\" data-value=\"rename-alice\""))
        #expect(dom.contains("data-filter=\"rule\" data-value=\"hide-pipelining\""))
        #expect(loaded.caughtErrors.isEmpty && loaded.uncaughtErrors.isEmpty, "\(loaded.caughtErrors) \(loaded.uncaughtErrors)")
    }

    @Test func theScreenshotIsNotBlank() throws {
        let workspace = try ReportWorkspace()
        let page = try workspace.report([ReportWorkspace.capture("several-sessions.pcap"), "--filters", ProxyHarness.shippedFilters])
        let png = workspace.file("ladder.png")
        try HeadlessChromium.screenshot(page, fragment: "session=several-sessions.pcap%231", to: png, width: 1280, height: 900)
        let image = try PNGSummary(path: png)
        #expect(image.width == 1280 && image.height == 900)
        #expect(image.distinctColours >= 16, "\(image.distinctColours) colours")
        #expect(image.dominantShare < 0.9, "one colour covers \(image.dominantShare)")
    }
}
