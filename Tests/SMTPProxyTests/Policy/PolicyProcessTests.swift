import Foundation
import Testing

/// The built `smtp-inspect proxy` binary with a policy rule, as an operator runs it: the rule's
/// server is asked, its answer refuses the recipient, the audit log and `/metrics` say so.
@Suite struct PolicyProcessTests {
    @Test func binaryAsksThePolicyServerAndCountsTheAnswer() async throws {
        let server = try FakePolicyServer(.answer { attributes in
            attributes.first { $0.0 == "recipient" }?.1 == "nobody@example.org" ? "REJECT no such user here" : "DUNNO"
        })
        defer { server.stop() }
        let postfix = try PostfixInstance()
        defer { postfix.stop() }
        let directory = NSTemporaryDirectory() + "policy-process-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
            rules:
              - {name: users, command: RCPT, action: policy, service: "\(server.service)"}
            """.write(toFile: directory + "/policy.yaml", atomically: true, encoding: .utf8)
        let log = directory + "/audit.jsonl"
        let proxy = try ProxyProcess([
            "proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(postfix.port)", "--log", log,
            "--filters", directory + "/policy.yaml", "--metrics", "127.0.0.1:0",
        ])
        defer { proxy.kill() }
        try proxy.waitUntilListening()
        let port = try #require(proxy.listeningPort())
        let metricsPort = try #require(proxy.metricsPort())
        let replies = try await onThread { () throws -> [String] in
            let smtp = try RawSMTPClient(port: port)
            try smtp.open()
            return [
                try smtp.command("MAIL FROM:<alice@example.net>"), try smtp.command("RCPT TO:<nobody@example.org>"),
                try smtp.command("RCPT TO:<bob@example.org>"), try smtp.command("QUIT"),
            ]
        }
        #expect(replies[1] == "554 5.7.1 no such user here\r\n", "\(replies)")
        #expect(replies[2].hasPrefix("250"), "\(replies)")
        let metrics = try MetricsScrape.metrics(port: metricsPort)
        #expect(metrics.value("smtp_inspect_policy_requests_total", ["service": server.service, "answer": "REJECT"]) == 1)
        #expect(metrics.value("smtp_inspect_policy_requests_total", ["service": server.service, "answer": "DUNNO"]) == 1)
        #expect(metrics.value("smtp_inspect_policy_latency_seconds_count", ["service": server.service]) == 2)
        _ = waitUntil("the session's end in the audit log") {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("\"session-end\"")
        }
        let audit = try String(contentsOfFile: log, encoding: .utf8)
        #expect(audit.contains("\"rule\":\"users\""), "\(audit)")
        #expect(audit.contains("\"policy\":\"REJECT no such user here\""), "\(audit)")
    }
}
