import Foundation
import NIOCore
import SMTPCore
import SMTPFilters
import SMTPProxy
import SMTPReplay
import Testing

/// SPEC §4 `--tls terminate` against a Postfix with TLS on, with throwaway CAs made by openssl:
/// the proxy is the TLS server for swaks/openssl and the TLS client of Postfix, inspects the
/// clear text in between, verifies the upstream's certificate, and records the clear text.
@Suite(.serialized) struct TLSTerminationTests {
    let postfix: PostfixInstance
    let ca: TestCA
    let proxyCertificate: TestCA.Issued

    init() throws {
        // Its own TLS Postfix: the STARTTLS suite reads its instance's log in parallel.
        (postfix, ca) = try TLSPostfix.instanceAndCA(name: "tls-terminate")
        proxyCertificate = try ca.issue("proxy.test")
    }

    private func terminating(
        upstream: PostfixInstance? = nil, rules: String? = nil, upstreamCA: String? = nil, insecure: Bool = false,
        implicitTLS: Bool = false, recordPath: String? = nil, metrics: Bool = false
    ) async throws -> ProxyHarness {
        try await ProxyHarness(
            upstreamPort: (upstream ?? postfix).port, rules: rules, tlsMode: .terminate, recordPath: recordPath,
            tls: TLSSettings(
                certificatePath: proxyCertificate.certificate, keyPath: proxyCertificate.key,
                implicitListen: implicitTLS ? HostAndPort(host: "127.0.0.1", port: 0) : nil,
                upstreamCAPath: insecure ? nil : (upstreamCA ?? ca.certificate), upstreamInsecure: insecure),
            metrics: metrics ? HostAndPort(host: "127.0.0.1", port: 0) : nil)
    }

    /// swaks with STARTTLS (or TLS on connect), verifying the proxy's certificate against the CA.
    private func swaks(port: Int, token: String, onConnect: Bool = false) throws -> ExternalProcess.Result {
        let message = testMessage(token: token) + ".\r\n"
        return try ExternalProcess.run(
            "swaks",
            [
                "--server", "127.0.0.1:\(port)", "--from", "alice@example.net", "--to", "bob@example.org", "--data", "-",
                onConnect ? "--tlsc" : "--tls", "--tls-verify", "--tls-ca-path", ca.certificate,
            ],
            input: Data(message.utf8))
    }

    private func sessionEnd(_ proxy: ProxyHarness) throws -> [String: Any] {
        let events = proxy.waitForSessionEnds(1)
        return try #require(events.first { $0["event"] as? String == "session-end" })
    }

    @Test func swaksThroughTerminationIsInspectedAndDeliveredOverTLS() async throws {
        let mark = postfix.quiescentMark()
        let proxy = try await terminating(metrics: true)
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("tls-term")
        let result = try swaks(port: proxy.port, token: token)
        #expect(result.status == 0, "swaks --tls failed: \(result.output)\(result.error)")
        // swaks checked the proxy's certificate (it chains to the test CA, names proxy.test).
        #expect(result.output.contains("proxy.test"), "\(result.output)")
        let delivered = try #require(postfix.waitForMessage(containing: token))
        #expect(delivered.contains("(using TLS"), "Postfix received it over TLS: \(delivered.prefix(600))")

        let end = try sessionEnd(proxy)
        #expect(end["tls"] as? String == "terminated")
        #expect(end["reason"] as? String == "quit")
        // The proxy read the clear text: every command inside the TLS session is in the log.
        let verbs = proxy.commandEvents().compactMap { $0["verb"] as? String }
        #expect(verbs == ["EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "DATA", "QUIT"], "\(verbs)")
        let message = try #require(proxy.events("message").first)
        #expect(message["mail_from"] as? String == "alice@example.net")
        #expect(message["result"] as? Int == 250)
        let log = postfix.waitForSessions(since: mark)
        #expect(log.contains("TLS connection established from localhost"), "\(log)")
        let statistics = try #require(PostfixInstance.commandStatistics(log).first)
        #expect(statistics["starttls"] == "1" && statistics["ehlo"] == "2" && statistics["mail"] == "1", "\(statistics)")
        // One handshake on each leg, both counted as such.
        let metrics = try MetricsScrape.metrics(port: try #require(proxy.server.metricsAddress?.port))
        #expect(metrics.value("smtp_inspect_tls_handshakes_total", ["leg": "client", "result": "ok"]) == 1)
        #expect(metrics.value("smtp_inspect_tls_handshakes_total", ["leg": "upstream", "result": "ok"]) == 1)
        #expect(metrics.sum("smtp_inspect_tls_handshakes_total", matching: ["result": "failed"]) == 0)
    }

    @Test func rulesApplyInsideTheTLSSession() async throws {
        let proxy = try await terminating(rules: """
            rules:
              - name: no-vrfy
                command: VRFY
                action: reject
            """)
        defer { Task { await proxy.stop() } }
        let client = try ExternalProcess.run(
            "openssl",
            [
                "s_client", "-starttls", "smtp", "-connect", "127.0.0.1:\(proxy.port)", "-CAfile", ca.certificate,
                "-verify_return_error", "-verify_hostname", "proxy.test", "-crlf", "-quiet",
            ],
            input: Data("EHLO openssl.test\nVRFY root\nNOOP\nQUIT\n".utf8))
        #expect(client.status == 0, "\(client.output)\(client.error)")
        #expect(client.output.contains("502 5.5.1"), "VRFY inside TLS was not refused: \(client.output)")
        #expect(client.output.contains("221 "), "\(client.output)")
        let end = try sessionEnd(proxy)
        #expect(end["tls"] as? String == "terminated")
        let vrfy = try #require(proxy.commandEvent("VRFY"))
        #expect(vrfy["action"] as? String == "reject" && vrfy["rule"] as? String == "no-vrfy")
    }

    @Test func anUntrustedUpstreamCertificateEndsTheSession() async throws {
        let mark = postfix.quiescentMark()
        let stranger = try TestCA(name: "some other CA")
        let proxy = try await terminating(upstreamCA: stranger.certificate, metrics: true)
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("tls-untrusted")
        let result = try swaks(port: proxy.port, token: token)
        #expect(result.status != 0, "swaks delivered through an unverified upstream: \(result.output)")
        #expect(result.output.contains("421 4.7.0 Error: TLS with the upstream failed"), "\(result.output)")
        let end = try sessionEnd(proxy)
        #expect(end["reason"] as? String == "tls-failed")
        let anomaly = try #require(proxy.events("anomaly").first { $0["kind"] as? String == "tls-handshake-failed" })
        #expect((anomaly["detail"] as? String)?.hasPrefix("upstream leg:") == true, "\(anomaly)")
        #expect(proxy.events("message").isEmpty)
        postfix.waitForSessions(since: mark)
        #expect(postfix.messages(containing: token).isEmpty)
        let metrics = try MetricsScrape.metrics(port: try #require(proxy.server.metricsAddress?.port))
        #expect(metrics.value("smtp_inspect_tls_handshakes_total", ["leg": "upstream", "result": "failed"]) == 1)
    }

    @Test func insecureUpstreamWorksAndSaysSo() async throws {
        let proxy = try await terminating(insecure: true)
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("tls-insecure")
        let result = try swaks(port: proxy.port, token: token)
        #expect(result.status == 0, "\(result.output)\(result.error)")
        #expect(postfix.waitForMessage(containing: token) != nil)
        #expect(try sessionEnd(proxy)["tls"] as? String == "terminated-unverified")
    }

    @Test func upstreamWithoutTLSGetsTheProxysOffer() async throws {
        let plain = PostfixInstance.shared
        let proxy = try await terminating(upstream: plain)
        defer { Task { await proxy.stop() } }
        let token = uniqueToken("tls-clear-upstream")
        let result = try swaks(port: proxy.port, token: token)
        #expect(result.status == 0, "\(result.output)\(result.error)")
        let delivered = try #require(plain.waitForMessage(containing: token))
        #expect(!delivered.contains("(using TLS"))
        #expect(try sessionEnd(proxy)["tls"] as? String == "terminated-upstream-clear")
        let starttls = try #require(proxy.replySummary().first { $0.verb == "STARTTLS" })
        #expect(starttls.code == 220 && starttls.local == true)
    }

    @Test func implicitTLSListener() async throws {
        let proxy = try await terminating(implicitTLS: true)
        defer { Task { await proxy.stop() } }
        let port = try #require(proxy.server.implicitTLSAddress?.port)
        let token = uniqueToken("tls-implicit")
        let result = try swaks(port: port, token: token, onConnect: true)
        #expect(result.status == 0, "swaks --tlsc failed: \(result.output)\(result.error)")
        #expect(postfix.waitForMessage(containing: token) != nil)
        #expect(try sessionEnd(proxy)["tls"] as? String == "implicit-upstream-clear")
        #expect(!proxy.commandEvents().contains { $0["verb"] as? String == "STARTTLS" })
    }

    @Test func recordingHoldsTheClearTextAndReplaysToTheLiveLog() async throws {
        let directory = NSTemporaryDirectory() + "record-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pcap = directory + "/terminated.pcap"
        let proxy = try await terminating(recordPath: pcap)
        let token = uniqueToken("tls-record")
        let result = try swaks(port: proxy.port, token: token)
        #expect(result.status == 0, "\(result.output)\(result.error)")
        let live = proxy.waitForSessionEnds(1)
        await proxy.stop()

        let bytes = try Data(contentsOf: URL(fileURLWithPath: pcap))
        #expect(bytes.range(of: Data("MAIL FROM:<alice@example.net>".utf8)) != nil, "the clear text is not in the recording")
        #expect(bytes.range(of: Data(token.utf8)) != nil)
        let replayed = try CaptureReplay(path: pcap, options: ReplayOptions(tlsMode: .terminate)).events()
        let replayedSignatures = replayed.compactMap { event -> String? in
            let json = try? JSONSerialization.jsonObject(with: Data(event.jsonLine.utf8)) as? [String: Any]
            return json.flatMap(RecordReplayRoundTripTests.signature)
        }
        #expect(replayedSignatures == live.compactMap(RecordReplayRoundTripTests.signature))
        #expect(replayedSignatures.contains { $0.hasPrefix("C MAIL") })
    }

    @Test func badCertificateFilesAreAConfigurationError() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        try directory.write("not a certificate\n", to: "bad.pem")
        let settings = TLSSettings(certificatePath: directory.file("bad.pem"), keyPath: proxyCertificate.key)
        await #expect(throws: ProxyError.self) {
            _ = try await ProxyHarness(upstreamPort: postfix.port, tlsMode: .terminate, tls: settings)
        }
        let binary = try ProxyProcess.runToExit([
            "proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(postfix.port)", "--tls", "terminate",
            "--tls-cert", directory.file("bad.pem"), "--tls-key", proxyCertificate.key,
        ])
        #expect(binary.status == 2)
        #expect(binary.error.contains("--tls-cert"), "\(binary.error)")
    }
}
