import Foundation
import Testing

/// `--record` on a device that refuses writes: the failure is reported on standard error once and
/// counted, and mail keeps flowing (the recording is evidence, not the audit trail).
@Suite struct RecordingFailureTests {
    @Test("--record /dev/full: one line on stderr, smtp_inspect_recording_write_errors_total, mail still delivered")
    func recordingOnAFullDevice() throws {
        let upstream = try MessageRecordingUpstream()
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let log = scratch.file("audit.jsonl")
        let proxy = try ProxyProcess([
            "proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(upstream.server.port)", "--log", log,
            "--record", "/dev/full", "--metrics", "127.0.0.1:0",
        ])
        defer { proxy.kill() }
        try proxy.waitUntilListening()
        let port = try #require(proxy.listeningPort())
        let metricsPort = try #require(proxy.metricsPort())
        for index in 0..<3 {
            let (client, greeting) = try MailExchange.session(port: port)
            #expect(greeting.hasPrefix("220"))
            let sent = try MailExchange.send(client, id: "<recorded-\(index)@test>")
            #expect(sent.end?.hasPrefix("250") == true, "\(sent)")
            try MailExchange.quit(client)
        }
        #expect(proxy.waitForStandardError(containing: "recording /dev/full: write failed"))
        let errors = try MetricsScrape.metrics(port: metricsPort).value("smtp_inspect_recording_write_errors_total") ?? 0
        #expect(errors >= 1)
        #expect(proxy.standardErrorCount(of: "recording /dev/full: write failed") == 1, "\(proxy.standardError)")
        #expect(upstream.messages.count == 3)
        // The audit log is healthy: the messages are there, and no audit failure was reported.
        _ = waitUntil("three message events") { auditEvents(at: log).filter { $0["event"] as? String == "message" }.count == 3 }
        #expect(!proxy.standardError.contains("audit log"))
        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 0)
    }
}
