import SMTPCore
import SMTPProxy
import Testing

/// Audit events in, Prometheus series out: each series counts exactly what the events say.
@Suite("Metrics: audit events to series")
struct ProxyMetricsMappingTests {
    static func event(_ kind: AuditEvent.Kind) -> AuditEvent {
        AuditEvent(timestamp: SMTPTimestamp(seconds: 1_764_403_200), session: "s1", kind: kind)
    }

    static func reply(_ code: Int, for verb: String?, local: Bool = false, latencyMilliseconds: Int64? = nil, rules: [String] = [])
        -> AuditEvent
    {
        event(.reply(ReplyRecord(code: code, text: "x", forVerb: verb, local: local, rules: rules, latency: latencyMilliseconds.map { .milliseconds($0) })))
    }

    static func command(_ verb: String, _ action: String, rule: String? = nil) -> AuditEvent {
        event(.command(CommandRecord(verb: verb, arg: "", action: action, rule: rule)))
    }

    static let endpoint = Endpoint(host: "192.0.2.1", port: 25)

    /// One session as the engine reports it: greeting, EHLO (a keyword stripped), VRFY rejected
    /// by a rule, a delivered message, an unknown command, QUIT.
    static let session: [AuditEvent] = [
        event(.sessionStart(client: endpoint, server: endpoint, source: "live")),
        reply(220, for: "greeting"),
        command("EHLO", "forward"),
        event(.reply(ReplyRecord(code: 250, text: "mx", forVerb: "EHLO", local: false,
            stripped: [.init(keyword: "XEXCH50", rule: "hide-xexch50")], latency: .milliseconds(3)))),
        command("VRFY", "reject", rule: "no-vrfy"),
        reply(502, for: "VRFY", local: true),
        command("MAIL", "forward"),
        reply(250, for: "MAIL", latencyMilliseconds: 2),
        command("RCPT", "forward"),
        reply(250, for: "RCPT", latencyMilliseconds: 40),
        command("DATA", "forward"),
        reply(354, for: "DATA", latencyMilliseconds: 1),
        event(.anomaly(.bareLF, detail: "bare LF")),
        reply(250, for: ".", latencyMilliseconds: 700, rules: ["log-delivered"]),
        event(.message(MessageRecord(mailFrom: "a@example.net", rcptTo: ["b@example.org"], size: 10, result: 250, messageID: nil, subject: nil))),
        command("XYZZY", "forward"),
        event(.anomaly(.unknownCommand, detail: "XYZZY")),
        reply(502, for: "XYZZY", latencyMilliseconds: 1),
        command("QUIT", "forward"),
        reply(221, for: "QUIT", latencyMilliseconds: 1),
        event(.sessionEnd(SessionSummary(reason: "quit", bytesFromClient: 120, bytesFromServer: 340, commands: 7, messages: 1, tls: "none"))),
    ]

    static func scrape(_ metrics: ProxyMetrics) -> PrometheusExposition {
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        let parsed = PrometheusExposition(text)
        #expect(parsed.problems == [], "\(text)")
        return parsed
    }

    @Test func sessionCountsEverySeries() {
        let metrics = ProxyMetrics()
        metrics.record(Self.session)
        let m = Self.scrape(metrics)
        #expect(m.value("smtp_inspect_sessions_started_total") == 1)
        #expect(m.value("smtp_inspect_sessions_ended_total", ["reason": "quit"]) == 1)
        #expect(m.value("smtp_inspect_sessions_active") == 0)
        #expect(m.value("smtp_inspect_commands_total", ["verb": "VRFY", "action": "reject"]) == 1)
        #expect(m.value("smtp_inspect_commands_total", ["verb": "OTHER", "action": "forward"]) == 1)
        #expect(m.sum("smtp_inspect_commands_total", matching: ["action": "forward"]) == 6)
        #expect(m.value("smtp_inspect_replies_total", ["verb": "VRFY", "class": "5xx", "origin": "local"]) == 1)
        #expect(m.value("smtp_inspect_replies_total", ["verb": "OTHER", "class": "5xx", "origin": "upstream"]) == 1)
        #expect(m.value("smtp_inspect_replies_total", ["verb": "DATA", "class": "3xx", "origin": "upstream"]) == 1)
        #expect(m.value("smtp_inspect_replies_total", ["verb": "greeting", "class": "2xx", "origin": "upstream"]) == 1)
        #expect(m.sum("smtp_inspect_replies_total") == 9)
        #expect(m.nonZero("smtp_inspect_rule_hits_total").sorted { $0["rule"]! < $1["rule"]! }
            == [["rule": "hide-xexch50"], ["rule": "log-delivered"], ["rule": "no-vrfy"]])
        #expect(m.value("smtp_inspect_anomalies_total", ["kind": "bare-lf"]) == 1)
        #expect(m.value("smtp_inspect_anomalies_total", ["kind": "unknown-command"]) == 1)
        #expect(m.value("smtp_inspect_bytes_total", ["direction": "from_client"]) == 120)
        #expect(m.value("smtp_inspect_bytes_total", ["direction": "from_server"]) == 340)
        #expect(m.value("smtp_inspect_messages_total", ["result": "2xx"]) == 1)
        #expect(m.sum("smtp_inspect_upstream_errors_total") == 0)
        // Seven upstream answers carry a latency; the greeting and the local 502 do not.
        #expect(m.sum("smtp_inspect_command_latency_seconds_count") == 7)
        #expect(m.value("smtp_inspect_command_latency_seconds_count", ["verb": "."]) == 1)
        #expect(m.value("smtp_inspect_command_latency_seconds_count", ["verb": "VRFY"]) == nil)
        #expect(m.value("smtp_inspect_command_latency_seconds_count", ["verb": "greeting"]) == nil)
        #expect(abs(m.sum("smtp_inspect_command_latency_seconds_sum") - 0.748) < 1e-9)
        #expect(m.types["smtp_inspect_command_latency_seconds"] == "histogram")
        #expect(m.types["smtp_inspect_sessions_active"] == "gauge")
        #expect(m.types["smtp_inspect_commands_total"] == "counter")
    }

    @Test func latencyLandsInTheRightBuckets() {
        let metrics = ProxyMetrics()
        metrics.record([Self.reply(250, for: "RCPT", latencyMilliseconds: 3), Self.reply(250, for: "RCPT", latencyMilliseconds: 45_000)])
        // A wall clock stepped back between command and reply: counted as 0, not dropped.
        metrics.record(Self.reply(250, for: "RCPT", latencyMilliseconds: -5))
        let m = Self.scrape(metrics)
        let buckets = m.samples.filter { $0.name == "smtp_inspect_command_latency_seconds_bucket" && $0.labels["verb"] == "RCPT" }
        let bounds = buckets.compactMap { $0.labels["le"] }
        #expect(bounds.first.flatMap(Double.init) == 0.001)
        #expect(bounds.dropLast().last.flatMap(Double.init) == 60)
        #expect(bounds.last == "+Inf")
        func count(le: Double) -> Double? { buckets.first { Double($0.labels["le"]!) == le }?.value }
        #expect(count(le: 0.001) == 1)
        #expect(count(le: 0.0025) == 1)
        #expect(count(le: 0.005) == 2)
        #expect(count(le: 30) == 2)
        #expect(count(le: 60) == 3)
        #expect(count(le: .infinity) == 3)
    }

    @Test func labelsStayBounded() {
        let metrics = ProxyMetrics()
        for verb in ["XYZZY", "", "GET", "mail"] { metrics.record(Self.command(verb, "forward")) }
        metrics.record([Self.reply(421, for: nil, local: true), Self.reply(500, for: "", local: true), Self.reply(250, for: "AUTH")])
        metrics.record(Self.command("AUTH-RESPONSE", "forward"))
        let m = Self.scrape(metrics)
        #expect(Set(m.nonZero("smtp_inspect_commands_total").compactMap { $0["verb"] }) == ["OTHER", "AUTH-RESPONSE"])
        #expect(m.value("smtp_inspect_commands_total", ["verb": "OTHER", "action": "forward"]) == 4)
        #expect(m.value("smtp_inspect_replies_total", ["verb": "none", "class": "4xx", "origin": "local"]) == 1)
        #expect(m.value("smtp_inspect_replies_total", ["verb": "OTHER", "class": "5xx", "origin": "local"]) == 1)
        #expect(m.value("smtp_inspect_replies_total", ["verb": "AUTH", "class": "2xx", "origin": "upstream"]) == 1)
    }

    @Test func directHooksAndAlwaysPresentSeries() {
        let metrics = ProxyMetrics()
        let before = Self.scrape(metrics)
        #expect(before.value("smtp_inspect_sessions_started_total") == 0)
        #expect(before.value("smtp_inspect_sessions_active") == 0)
        #expect(before.value("smtp_inspect_upstream_errors_total", ["kind": "connect"]) == 0)
        #expect(before.value("smtp_inspect_upstream_errors_total", ["kind": "lost"]) == 0)
        #expect(before.value("smtp_inspect_tls_handshakes_total", ["leg": "client", "result": "failed"]) == 0)

        metrics.upstreamError(.connect)
        metrics.tlsHandshake(leg: .client, succeeded: true)
        metrics.tlsHandshake(leg: .upstream, succeeded: false)
        metrics.tlsHandshake(leg: .upstream, succeeded: false)
        metrics.record(Self.event(.sessionStart(client: Self.endpoint, server: Self.endpoint, source: "live")))
        metrics.record(Self.event(.sessionStart(client: Self.endpoint, server: Self.endpoint, source: "live")))
        metrics.record(Self.event(.sessionEnd(SessionSummary(reason: "upstream-lost", bytesFromClient: 1, bytesFromServer: 2, commands: 0, messages: 0, tls: "none"))))
        let m = Self.scrape(metrics)
        #expect(m.value("smtp_inspect_upstream_errors_total", ["kind": "connect"]) == 1)
        #expect(m.value("smtp_inspect_upstream_errors_total", ["kind": "lost"]) == 1)
        #expect(m.value("smtp_inspect_tls_handshakes_total", ["leg": "client", "result": "ok"]) == 1)
        #expect(m.value("smtp_inspect_tls_handshakes_total", ["leg": "upstream", "result": "failed"]) == 2)
        #expect(m.value("smtp_inspect_sessions_active") == 1)
        #expect(m.value("smtp_inspect_sessions_ended_total", ["reason": "upstream-lost"]) == 1)
    }

    @Test func serversCountSeparately() {
        let first = ProxyMetrics()
        let second = ProxyMetrics()
        first.record(Self.session)
        #expect(Self.scrape(first).value("smtp_inspect_sessions_started_total") == 1)
        #expect(Self.scrape(second).value("smtp_inspect_sessions_started_total") == 0)
        #expect(Self.scrape(second).sum("smtp_inspect_commands_total") == 0)
    }

    /// Every family that has a `# TYPE` line has a `# HELP` line before it (what the series
    /// means, for whoever reads the scrape or builds a dashboard on it).
    @Test func everyFamilyHasHelp() {
        let metrics = ProxyMetrics()
        metrics.record(Self.session)
        let lines = String(decoding: metrics.exposition(), as: UTF8.self).split(separator: "\n").map(String.init)
        let typed = lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(typed.count >= 12)
        for name in typed {
            let help = lines.first { $0.hasPrefix("# HELP \(name) ") }
            #expect(help != nil && help!.count > "# HELP \(name) ".count + 10, "\(name)")
        }
    }
}
