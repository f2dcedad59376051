import Foundation
import Testing

/// `smtp-inspect proxy --metrics` as an operator runs it: the built binary serves `/metrics`,
/// says where in its `listening` notice, and refuses bad or busy addresses with exit 2.
@Suite("Metrics: the smtp-inspect binary", .serialized)
struct MetricsProcessTests {
    @Test func binaryServesMetricsAfterASession() async throws {
        let postfix = PostfixInstance.shared
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let log = scratch.file("audit.jsonl")
        let proxy = try ProxyProcess([
            "proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(postfix.port)", "--log", log, "--metrics", "127.0.0.1:0",
        ])
        defer { proxy.kill() }
        try proxy.waitUntilListening()
        let port = try #require(proxy.listeningPort())
        let metricsPort = try #require(proxy.metricsPort(), "stderr: \(proxy.standardError)")

        #expect(try MetricsScrape.metrics(port: metricsPort).value("smtp_inspect_sessions_started_total") == 0)
        let token = opsToken("metrics-cli")
        try sendMessage(OperationsClient(port: port), token: token)
        #expect(waitUntil("the session-end in the audit log") { auditEvents(at: log).named("session-end").count == 1 })

        let m = try MetricsScrape.metrics(port: metricsPort)
        #expect(m.value("smtp_inspect_sessions_started_total") == 1)
        #expect(m.value("smtp_inspect_sessions_ended_total", ["reason": "quit"]) == 1)
        #expect(m.value("smtp_inspect_messages_total", ["result": "2xx"]) == 1)
        #expect(m.value("smtp_inspect_commands_total", ["verb": "RCPT", "action": "forward"]) == 1)
        #expect(m.value("smtp_inspect_sessions_active") == 0)
        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 0, "stderr: \(proxy.standardError)")
    }

    @Test func busyMetricsAddressExitsTwoWithOneLine() async throws {
        let occupied = try FakeUpstream { _ in }
        defer { occupied.stop() }
        let result = try ProxyProcess.runToExit([
            "proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:25", "--metrics", "127.0.0.1:\(occupied.port)",
        ])
        #expect(result.status == 2, "exit \(String(describing: result.status)); stderr: \(result.error)")
        let lines = result.error.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("cannot listen on 127.0.0.1:\(occupied.port) (--metrics)"), "stderr: \(result.error)")
    }

    @Test(arguments: [
        (["--metrics", "9125"], "--metrics: expected host:port"),
        (["--metrics", "127.0.0.1:99999"], "--metrics: expected host:port"),
        (["--metrics", "127.0.0.1:2526"], "--metrics needs an address of its own"),
    ])
    func badMetricsAddressIsAUsageError(arguments: [String], reason: String) async throws {
        let result = try ProxyProcess.runToExit(["proxy", "--listen", "127.0.0.1:2526", "--upstream", "127.0.0.1:25"] + arguments)
        #expect(result.status == 2, "exit \(String(describing: result.status)); stderr: \(result.error)")
        #expect(result.error.contains(reason), "stderr: \(result.error)")
    }

    @Test func helpDescribesTheFlag() throws {
        let result = try ProxyProcess.runToExit(["proxy", "--help"])
        #expect(result.status == 0)
        #expect(result.output.contains("--metrics <host:port>"), "\(result.output)")
        #expect(result.output.contains("/metrics"))
    }
}

extension ProxyProcess {
    /// The metrics port from the `listening` notice (`… metrics=[IPv4]127.0.0.1/127.0.0.1:9125 …`).
    func metricsPort() -> Int? { listeningNoticePort("metrics") }
}
