import Foundation
import Testing

/// The whole chain with real components (SPEC §8): a client on 127.0.0.9 → HAProxy (TCP mode,
/// `send-proxy` / `send-proxy-v2`) → the built smtp-inspect (`--proxy-protocol-in
/// --proxy-protocol-from 127.0.0.1/32 --proxy-protocol-out v1|v2`) → Postfix with
/// `smtpd_upstream_proxy_protocol = haproxy`. Every TCP connection in it comes from 127.0.0.1
/// except the client's, so 127.0.0.9 in Postfix's log and Received header can only have come
/// through both PROXY headers.
@Suite(.serialized) struct HAProxyIntegrationTests {
    static let client = "127.0.0.9"

    static func postfix() throws -> PostfixInstance {
        try DedicatedPostfix.instance("haproxy-proxy-protocol", extraMainCF: ["smtpd_upstream_proxy_protocol = haproxy"])
    }

    /// smtp-inspect behind HAProxy; stop both with `stop()`.
    struct Chain {
        let inspect: ProxyProcess
        let haproxy: HAProxyInstance
        let scratch: ScratchDirectory
        var auditLog: String { scratch.file("audit.jsonl") }
        var proxyPort: Int

        init(postfixPort: Int, haproxyServerOption: String, out: String, haproxyBackendOptions: String = "") throws {
            scratch = try ScratchDirectory()
            inspect = try ProxyProcess([
                "proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(postfixPort)", "--log", scratch.file("audit.jsonl"),
                "--proxy-protocol-in", "--proxy-protocol-from", "127.0.0.1/32", "--proxy-protocol-out", out,
                "--threads", "1",
            ])
            try inspect.waitUntilListening()
            guard let port = inspect.listeningPort() else {
                inspect.kill()
                throw OperationsClient.Failure(description: "no port in: \(inspect.standardError)")
            }
            proxyPort = port
            haproxy = try HAProxyInstance(backendPort: port, serverOptions: haproxyServerOption, backendOptions: haproxyBackendOptions)
        }

        /// swaks from 127.0.0.9 through HAProxy: a message whose subject and body carry `token`.
        func sendThroughHAProxy(token: String) async throws -> ExternalProcess.Result {
            let port = haproxy.port
            return try await onThread {
                try ExternalProcess.run(
                    "swaks",
                    ["--server", "127.0.0.1:\(port)", "--local-interface", HAProxyIntegrationTests.client, "--ehlo", "client.test",
                     "--from", "alice@example.net", "--to", "bob@example.org", "--data", "-", "--timeout", "30"],
                    input: Data((testMessage(token: token) + ".\r\n").utf8))
            }
        }

        func stop() {
            haproxy.stop()
            inspect.send(signal: SIGTERM)
            if inspect.waitForExit() == nil { inspect.kill() }
            scratch.remove()
        }
    }

    @Test(arguments: [("send-proxy", "v1"), ("send-proxy-v2", "v2"), ("send-proxy", "v2"), ("send-proxy-v2", "v1")])
    func postfixSeesTheOriginalClient(haproxyServerOption: String, out: String) async throws {
        let postfix = try Self.postfix()
        let chain = try Chain(postfixPort: postfix.port, haproxyServerOption: haproxyServerOption, out: out)
        defer { chain.stop() }
        let mark = postfix.quiescentMark()
        let token = uniqueToken("haproxy-\(out)")
        let result = try await chain.sendThroughHAProxy(token: token)
        #expect(result.status == 0, "swaks: \(result.output)\(result.error)\nhaproxy: \(chain.haproxy.output)")

        let message = try #require(postfix.waitForMessage(containing: token))
        let received = message.split(separator: "\n").first { $0.hasPrefix("Received: from client.test") } ?? ""
        #expect(received.contains("[\(Self.client)]"), "\(message)")
        let connect = postfix.waitForLogLine(since: mark, containing: [": connect from ", "[\(Self.client)]"])
        #expect(connect != nil, "\(postfix.log(since: mark))")
        let sessions = PostfixInstance.sessionCounts(postfix.waitForSessions(since: mark))
        #expect(sessions.connects == 1, "\(postfix.log(since: mark))")

        _ = waitUntil("session-end in the audit log") { auditEvents(at: chain.auditLog).contains { $0["event"] as? String == "session-end" } }
        let events = auditEvents(at: chain.auditLog)
        let start = try #require(events.first { $0["event"] as? String == "session-start" })
        #expect((start["client"] as? String)?.hasPrefix("\(Self.client):") == true, "\(start)")
        #expect(events.contains { $0["event"] as? String == "message" && $0["result"] as? Int == 250 })
    }

    /// A peer outside --proxy-protocol-from (a client going around HAProxy) and a peer inside it
    /// that sends no PROXY header are closed without a byte, each with a warning; Postfix sees
    /// neither: the next session, through HAProxy, is the only one in its log.
    @Test func refusedPeerAndGarbageHeaderNeverReachPostfix() async throws {
        let postfix = try Self.postfix()
        let chain = try Chain(postfixPort: postfix.port, haproxyServerOption: "send-proxy-v2", out: "v2")
        defer { chain.stop() }
        let mark = postfix.quiescentMark()
        let port = chain.proxyPort
        let answers = try await onThread { () throws -> [String] in
            let around = try RawSMTPClient(port: port, source: HAProxyIntegrationTests.client)
            try around.send("PROXY TCP4 203.0.113.9 127.0.0.1 40000 25\r\nEHLO x\r\n")
            let garbage = try RawSMTPClient(port: port)
            try garbage.send("EHLO client.test\r\nMAIL FROM:<a@example.net>\r\n")
            return [try around.readToEnd(), try garbage.readToEnd()]
        }
        #expect(answers == ["", ""], "\(answers)")
        chain.inspect.waitForStandardError(containing: "peer not in --proxy-protocol-from")
        chain.inspect.waitForStandardError(containing: "not a PROXY protocol header")

        let token = uniqueToken("haproxy-after")
        let result = try await chain.sendThroughHAProxy(token: token)
        #expect(result.status == 0, "swaks: \(result.output)\(result.error)")
        #expect(postfix.waitForMessage(containing: token) != nil)
        let sessions = PostfixInstance.sessionCounts(postfix.waitForSessions(since: mark))
        #expect(sessions.connects == 1, "\(postfix.log(since: mark))")
        _ = waitUntil("session-end in the audit log") { auditEvents(at: chain.auditLog).contains { $0["event"] as? String == "session-end" } }
        let starts = auditEvents(at: chain.auditLog).filter { $0["event"] as? String == "session-start" }
        #expect(starts.count == 1 && (starts.first?["client"] as? String)?.hasPrefix("\(Self.client):") == true, "\(starts)")
    }

    /// HAProxy's SMTP health check with `check-send-proxy` (as deploy/haproxy/haproxy.cfg does):
    /// it starts with a v2 LOCAL header, which keeps the socket's own addresses, and goes through
    /// smtp-inspect to Postfix and back (greeting, EHLO, 250).
    @Test func healthCheckWithLocalHeaderGoesThroughToPostfix() async throws {
        let postfix = try Self.postfix()
        let mark = postfix.quiescentMark()
        let chain = try Chain(
            postfixPort: postfix.port, haproxyServerOption: "send-proxy-v2 check check-send-proxy inter 500ms", out: "v2",
            haproxyBackendOptions: "option smtpchk EHLO check.test")
        defer { chain.stop() }
        let sawCheck = waitUntil("HAProxy's health check in the audit log") {
            auditEvents(at: chain.auditLog).contains { $0["event"] as? String == "session-end" }
        }
        let events = auditEvents(at: chain.auditLog)
        #expect(sawCheck && events.contains { $0["event"] as? String == "command" && $0["verb"] as? String == "EHLO" && $0["arg"] as? String == "check.test" })
        let start = try #require(events.first { $0["event"] as? String == "session-start" })
        #expect((start["client"] as? String)?.hasPrefix("127.0.0.1:") == true, "\(start)")
        #expect(events.contains { $0["event"] as? String == "reply" && $0["for"] as? String == "EHLO" && $0["code"] as? Int == 250 })
        #expect(postfix.waitForLogLine(since: mark, containing: [": connect from ", "[127.0.0.1]"]) != nil)
        #expect(!chain.haproxy.output.contains("is DOWN"), "\(chain.haproxy.output)")
    }
}
