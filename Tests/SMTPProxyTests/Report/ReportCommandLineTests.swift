import Foundation
import SMTPReport
import Testing

/// `smtp-inspect report` as a command: what it accepts, what it refuses (one line, exit 2), and
/// what never reaches the page.
struct ReportCommandLineTests {
    @Test func aCaptureWithAuthPlainDoesNotLeakTheSecret() throws {
        let capture = ReportWorkspace.capture("smtplib-auth.pcap")
        // The capture does hold the secrets (else this test would prove nothing).
        let raw = try Data(contentsOf: URL(fileURLWithPath: capture))
        let secrets = ["AGFsaWNlAHNlY3JldA==", "YWxpY2U=", "c2VjcmV0"]
        #expect(raw.range(of: Data(secrets[0].utf8)) != nil)
        let workspace = try ReportWorkspace()
        let page = try String(contentsOfFile: try workspace.report([capture, "--filters", ProxyHarness.shippedFilters]), encoding: .utf8)
        #expect(page.contains("[redacted]"))
        #expect(page.contains("AUTH-RESPONSE"))
        for secret in secrets {
            #expect(!page.contains(secret), "\(secret) is in the page")
        }
        // Decoded, the password is "secret": not in the data (the footer does say "AUTH secrets").
        let data = page.components(separatedBy: "id=\"report-data\">").last?.components(separatedBy: "</script>").first ?? ""
        #expect(data.contains("[redacted]"))
        #expect(!data.lowercased().contains("secret"))
        #expect(!data.contains("alice\\u0000"))
    }

    @Test func badInputIsOneLineAndExitStatus2() throws {
        let workspace = try ReportWorkspace()
        let text = workspace.file("notes.txt")
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: text))
        let badLine = workspace.file("audit.jsonl")
        try Data("{\"ts\":\"2026-11-29T09:25:57Z\",\"session\":\"a\",\"event\":\"session-start\"}\n{\"broken\n".utf8).write(to: URL(fileURLWithPath: badLine))
        let truncated = workspace.file("cut.pcap")
        let capture = try Data(contentsOf: URL(fileURLWithPath: ReportWorkspace.capture("swaks-plain.pcap")))
        try capture.prefix(capture.count / 2 + 7).write(to: URL(fileURLWithPath: truncated))
        let cases: [(input: String, reason: String)] = [
            (workspace.file("missing.jsonl"), "missing.jsonl: cannot open (no such file)"),
            (text, "notes.txt: neither a JSON-lines audit log nor a pcap/pcapng capture"),
            (badLine, "audit.jsonl:2: not an audit event"),
            (truncated, "cut.pcap: "),
        ]
        for (input, reason) in cases {
            let output = workspace.file("out.html")
            let run = try ProxyProcess.runToExit(["report", input, "-o", output])
            #expect(run.status == 2, "\(input): exit \(String(describing: run.status))")
            #expect(run.error.contains(reason), "\(input): \(run.error)")
            #expect(run.error.split(separator: "\n").count == 1, "\(input): \(run.error)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        let noOutput = try ProxyProcess.runToExit(["report", ReportWorkspace.capture("swaks-plain.pcap")])
        #expect(noOutput.status == 2)
    }

    /// Self-contained: no attribute or rule that loads anything; the only URL is the SVG namespace.
    @Test func thePageFetchesNothing() throws {
        let workspace = try ReportWorkspace()
        let html = try String(contentsOfFile: try workspace.report([ReportWorkspace.capture("several-sessions.pcap")]), encoding: .utf8)
        for loader in [" src=", " href=", "url(", "@import", "@font-face", "fetch(", "XMLHttpRequest", "<link", "<iframe"] {
            #expect(!html.contains(loader), "\(loader) in the page")
        }
        let urls = html.components(separatedBy: "http").dropFirst().map { String($0.prefix(30)) }
        #expect(urls.allSatisfy { $0.hasPrefix("://www.w3.org/2000/svg") || $0.hasPrefix("-equiv=") }, "\(urls)")
        #expect(html.contains("Content-Security-Policy\" content=\"default-src 'none'"))
    }

    /// Two captures of the same name (replay calls their sessions `<file name>#<n>`) stay apart.
    @Test func capturesOfTheSameNameStayApart() throws {
        let workspace = try ReportWorkspace()
        try FileManager.default.createDirectory(atPath: workspace.file("copy"), withIntermediateDirectories: true)
        let copy = workspace.file("copy/swaks-plain.pcap")
        try FileManager.default.copyItem(atPath: ReportWorkspace.capture("swaks-plain.pcap"), toPath: copy)
        let page = try String(contentsOfFile: try workspace.report([ReportWorkspace.capture("swaks-plain.pcap"), copy]), encoding: .utf8)
        #expect(page.contains("<span class=\"count\">2</span>"))
        #expect(page.contains("\"swaks-plain.pcap#0\""))
        #expect(page.contains("\"\(copy)#0\""))
    }

    /// A proxy that has not logged a session yet: an empty report, not an error.
    @Test func anEmptyLogGivesAnEmptyReport() throws {
        let workspace = try ReportWorkspace()
        let log = workspace.file("audit.jsonl")
        try Data().write(to: URL(fileURLWithPath: log))
        let loaded = try HeadlessChromium.dumpDOM(try workspace.report([log]))
        #expect(loaded.dom.contains("data-ready=\"true\""))
        #expect(loaded.dom.contains(">0 sessions<"))
        #expect(loaded.dom.contains("No session matches."))
        #expect(loaded.caughtErrors.isEmpty && loaded.uncaughtErrors.isEmpty, "\(loaded.caughtErrors) \(loaded.uncaughtErrors)")
    }

    /// Audit log lines cannot break out of the data block or into the markup.
    @Test func logTextCannotInjectMarkup() throws {
        let workspace = try ReportWorkspace()
        let log = workspace.file("hostile.jsonl")
        let lines = [
            #"{"ts":"2026-11-29T10:00:00.000000Z","session":"x</script><script>window.pwned=1</script>","event":"session-start","client":"10.0.0.1:1","server":"10.0.0.2:25","source":"live"}"#,
            #"{"ts":"2026-11-29T10:00:00.100000Z","session":"x</script><script>window.pwned=1</script>","event":"command","verb":"HELO","arg":"<img src=x onerror=alert(1)> <!-- \u0000","action":"forward","rule":null,"forwarded":null}"#,
        ]
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: log))
        let page = try workspace.report([log])
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(!html.contains("</script><script>window.pwned"))
        #expect(!html.contains("<img src=x"))
        #expect(occurrences(of: "</script>", in: html) == 3)
        let loaded = try HeadlessChromium.dumpDOM(page)
        #expect(loaded.dom.contains("data-ready=\"true\""))
        #expect(loaded.caughtErrors.isEmpty && loaded.uncaughtErrors.isEmpty, "\(loaded.caughtErrors) \(loaded.uncaughtErrors)")
        #expect(!loaded.dom.contains("<img"))
        #expect(loaded.dom.contains("HELO &lt;img src=x onerror=alert(1)&gt;"))
    }
}
