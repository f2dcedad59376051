import Foundation
import NIOCore
import SMTPProxy
import Testing

/// A known session through the proxy to a real Postfix, then `/metrics` scraped with curl: every
/// series has exactly the count the session should give, and agrees with the audit log.
@Suite("Metrics: a known session scraped with curl", .serialized)
struct MetricsEndToEndTests {
    static let rules = """
        rules:
          - name: no-vrfy
            command: VRFY
            action: reject
            reply: "502 5.5.1 VRFY is disabled"
        """

    static let anyPort = HostAndPort(host: "127.0.0.1", port: 0)

    @Test func knownSessionGivesExactCounts() async throws {
        let postfix = PostfixInstance.shared
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: Self.rules, metrics: Self.anyPort)
        defer { Task { await proxy.stop() } }
        let metricsPort = try #require(proxy.server.metricsAddress?.port)

        let idle = try MetricsScrape.metrics(port: metricsPort)
        #expect(idle.value("smtp_inspect_sessions_started_total") == 0)
        #expect(idle.value("smtp_inspect_sessions_active") == 0)

        let token = uniqueToken("metrics")
        let client = try RawSMTPClient(port: proxy.port)
        let (greeting, ehlo) = try client.open()
        #expect(greeting.hasPrefix("220 "))
        #expect(ehlo.hasPrefix("250"))
        #expect(try client.command("VRFY root").hasPrefix("502 5.5.1 VRFY is disabled"))
        // Mid-session the session is active and its commands are already counted.
        let during = try MetricsScrape.metrics(port: metricsPort)
        #expect(during.value("smtp_inspect_sessions_active") == 1)
        #expect(during.value("smtp_inspect_commands_total", ["verb": "VRFY", "action": "reject"]) == 1)

        #expect(try client.command("MAIL FROM:<alice@example.net>").hasPrefix("250"))
        #expect(try client.command("RCPT TO:<bob@example.org>").hasPrefix("250"))
        #expect(try client.command("DATA").hasPrefix("354"))
        try client.send(testMessage(token: token) + ".\r\n")
        #expect(try client.readReply()?.hasPrefix("250") == true)
        #expect(try client.command("XYZZY").hasPrefix("500 5.5.2"), "Postfix refuses the unknown command")
        #expect(try client.command("QUIT").hasPrefix("221"))
        _ = try client.readToEnd()
        #expect(postfix.waitForMessage(containing: token) != nil)
        let events = proxy.waitForSessionEnds(1)

        let m = try MetricsScrape.metrics(port: metricsPort)
        #expect(m.value("smtp_inspect_sessions_started_total") == 1)
        #expect(m.nonZero("smtp_inspect_sessions_ended_total") == [["reason": "quit"]])
        #expect(m.value("smtp_inspect_sessions_active") == 0)
        let commands = m.samples.filter { $0.name == "smtp_inspect_commands_total" }
            .map { "\($0.labels["verb"]!) \($0.labels["action"]!) \(Int($0.value))" }.sorted()
        #expect(commands == [
            "DATA forward 1", "EHLO forward 1", "MAIL forward 1", "OTHER forward 1", "QUIT forward 1", "RCPT forward 1",
            "VRFY reject 1",
        ])
        let replies = m.samples.filter { $0.name == "smtp_inspect_replies_total" }
            .map { "\($0.labels["verb"]!) \($0.labels["class"]!) \($0.labels["origin"]!) \(Int($0.value))" }.sorted()
        #expect(replies == [
            ". 2xx upstream 1", "DATA 3xx upstream 1", "EHLO 2xx upstream 1", "MAIL 2xx upstream 1", "OTHER 5xx upstream 1",
            "QUIT 2xx upstream 1", "RCPT 2xx upstream 1", "VRFY 5xx local 1", "greeting 2xx upstream 1",
        ])
        #expect(m.nonZero("smtp_inspect_rule_hits_total") == [["rule": "no-vrfy"]])
        #expect(m.value("smtp_inspect_rule_hits_total", ["rule": "no-vrfy"]) == 1)
        #expect(m.nonZero("smtp_inspect_anomalies_total") == [["kind": "unknown-command"]])
        #expect(m.value("smtp_inspect_anomalies_total", ["kind": "unknown-command"]) == 1)
        #expect(m.value("smtp_inspect_messages_total", ["result": "2xx"]) == 1)
        #expect(m.sum("smtp_inspect_upstream_errors_total") == 0)
        #expect(m.sum("smtp_inspect_tls_handshakes_total") == 0)

        // Bytes: what the audit log's session-end says, to the octet.
        let end = try #require(events.first { $0["event"] as? String == "session-end" })
        let fromClient = try #require(end["bytes_from_client"] as? Int)
        let fromServer = try #require(end["bytes_from_server"] as? Int)
        #expect(fromClient > 0 && fromServer > 0)
        #expect(m.value("smtp_inspect_bytes_total", ["direction": "from_client"]) == Double(fromClient))
        #expect(m.value("smtp_inspect_bytes_total", ["direction": "from_server"]) == Double(fromServer))

        // Latency: one observation per command the upstream answered (not the greeting, not the
        // proxy's own 502): EHLO MAIL RCPT DATA . XYZZY QUIT.
        let upstreamAnswers = events.filter {
            $0["event"] as? String == "reply" && $0["local"] as? Bool == false && $0["for"] as? String != "greeting"
        }
        #expect(upstreamAnswers.count == 7)
        #expect(m.sum("smtp_inspect_command_latency_seconds_count") == 7)
        #expect(m.value("smtp_inspect_command_latency_seconds_count", ["verb": "."]) == 1)
        #expect(m.value("smtp_inspect_command_latency_seconds_bucket", ["verb": "QUIT", "le": "+Inf"]) == 1)
        #expect(m.sum("smtp_inspect_command_latency_seconds_sum") > 0)
        #expect(m.types["smtp_inspect_command_latency_seconds"] == "histogram")
    }

    @Test func unreachableUpstreamCountsAConnectError() async throws {
        let proxy = try await ProxyHarness(upstreamPort: freeLoopbackPort(), metrics: Self.anyPort)
        defer { Task { await proxy.stop() } }
        let metricsPort = try #require(proxy.server.metricsAddress?.port)
        let client = try RawSMTPClient(port: proxy.port)
        #expect(try client.readToEnd().hasPrefix("421 4.4.0"))
        proxy.waitForSessionEnds(1)
        let m = try MetricsScrape.metrics(port: metricsPort)
        #expect(m.value("smtp_inspect_upstream_errors_total", ["kind": "connect"]) == 1)
        #expect(m.value("smtp_inspect_upstream_errors_total", ["kind": "lost"]) == 0)
        #expect(m.value("smtp_inspect_sessions_ended_total", ["reason": "upstream-unavailable"]) == 1)
        #expect(m.value("smtp_inspect_replies_total", ["verb": "greeting", "class": "4xx", "origin": "local"]) == 1)
        #expect(m.value("smtp_inspect_anomalies_total", ["kind": "upstream-unavailable"]) == 1)
        #expect(m.value("smtp_inspect_sessions_active") == 0)
    }

    @Test func onlyGetMetricsIsServed() async throws {
        let proxy = try await ProxyHarness(upstreamPort: freeLoopbackPort(), metrics: Self.anyPort)
        defer { Task { await proxy.stop() } }
        let base = "http://127.0.0.1:\(try #require(proxy.server.metricsAddress?.port))"
        #expect(try MetricsScrape.fetch(base + "/").status == 404)
        #expect(try MetricsScrape.fetch(base + "/metricsx").status == 404)
        #expect(try MetricsScrape.fetch(base + "/metrics", ["-X", "POST", "-d", "x"]).status == 405)
        let query = try MetricsScrape.fetch(base + "/metrics?name=x")
        #expect(query.status == 200)
        #expect(query.body.contains("# TYPE smtp_inspect_sessions_started_total counter"))
    }

    @Test func withoutTheFlagNothingListens() async throws {
        let proxy = try await ProxyHarness(upstreamPort: freeLoopbackPort())
        defer { Task { await proxy.stop() } }
        #expect(proxy.server.metricsAddress == nil)
        #expect(proxy.server.metrics == nil)
    }
}
