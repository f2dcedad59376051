import NIOCore
import NIOPosix
import SMTPCore
import SMTPProxy
import SMTPServices
import Testing

/// The policy series (SPEC §11): answers and errors per service, latency per service, fed by a
/// real consultant asking a real (fake) server.
@Suite("Metrics: policy services")
struct PolicyMetricsTests {
    @Test func answersErrorsAndLatencyPerService() async throws {
        let server = try FakePolicyServer(.answer { attributes in
            attributes.first { $0.0 == "recipient" }?.1 == "bad@example.org" ? "REJECT no" : "DUNNO"
        })
        defer { server.stop() }
        let metrics = ProxyMetrics()
        let down = "inet:127.0.0.1:\(freeLoopbackPort())"
        metrics.registerPolicyService(down)
        let rules = try PolicyTestSupport.ruleSet(service: server.service)
        let unreachable = try PolicyTestSupport.ruleSet(service: down, name: "gone")
        try await PolicyTestSupport.withConsultant(rules, observer: metrics) { consultant, loop in
            for recipient in ["a@example.org", "b@example.org", "bad@example.org"] {
                _ = try await consultant.consult(PolicyTestSupport.rcpt(recipient), at: .epoch, on: loop).get()
            }
        }
        try await PolicyTestSupport.withConsultant(unreachable, observer: metrics) { consultant, loop in
            _ = try await consultant.consult(PolicyTestSupport.rcpt("a@example.org", rules: ["gone"]), at: .epoch, on: loop).get()
        }
        let parsed = PrometheusExposition(String(decoding: metrics.exposition(), as: UTF8.self))
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        #expect(parsed.value("smtp_inspect_policy_requests_total", ["service": server.service, "answer": "DUNNO"]) == 2)
        #expect(parsed.value("smtp_inspect_policy_requests_total", ["service": server.service, "answer": "REJECT"]) == 1)
        #expect(parsed.value("smtp_inspect_policy_errors_total", ["service": down, "kind": "refused"]) == 1)
        #expect(parsed.value("smtp_inspect_policy_errors_total", ["service": down, "kind": "timeout"]) == 0, "registered at zero")
        #expect(parsed.value("smtp_inspect_policy_latency_seconds_count", ["service": server.service]) == 3)
        #expect(parsed.value("smtp_inspect_policy_latency_seconds_count", ["service": down]) == 1)
        #expect(parsed.types["smtp_inspect_policy_latency_seconds"] == "histogram")
    }
}
