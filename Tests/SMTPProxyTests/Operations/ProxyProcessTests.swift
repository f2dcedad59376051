import Foundation
import Testing

/// `smtp-inspect proxy` as a process (SPEC §2, §8; issue 3 item 6): SIGHUP reloads the rules for
/// new sessions and keeps the old ones when the new files are invalid; SIGTERM stops accepting,
/// lets open sessions finish, and exits 0 with a complete audit log; bad usage and bad
/// configuration exit 2 with the reason.
@Suite(.serialized) struct ProxyProcessTests {
    @Test func sighupReloadsRulesAndKeepsThemWhenTheNewOnesAreInvalid() async throws {
        let postfix = PostfixInstance.shared
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let rules = scratch.file("rules")
        try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
        try scratch.write("rules:\n  - name: no-vrfy\n    command: VRFY\n    action: reject\n", to: "rules/10-base.yaml")
        let proxy = try ProxyProcess([
            "proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(postfix.port)", "--filters", rules, "--log", scratch.file("audit.jsonl"),
        ])
        defer { proxy.kill() }
        try proxy.waitUntilListening()
        let port = try #require(proxy.listeningPort())

        // A session opened under the first rules, kept open across the reloads.
        let early = try OperationsClient(port: port)
        #expect(try early.readReply()?.hasPrefix("220") == true)
        try early.send("EHLO client.test\r\nNOOP\r\n")
        let earlyReplies = try early.readReplies(2)
        #expect(earlyReplies[1].hasPrefix("250"), "NOOP is allowed at first: \(earlyReplies)")

        // Add a rule and reload.
        try scratch.write(
            "rules:\n  - name: no-noop\n    command: NOOP\n    action: reject\n    reply: \"550 5.7.1 NOOP refused by rule\"\n",
            to: "rules/20-noop.yaml")
        proxy.send(signal: SIGHUP)
        #expect(waitUntil("the reload to be logged") { proxy.standardErrorCount(of: "rules reloaded") == 1 })
        #expect(try noopReply(port: port).hasPrefix("550 5.7.1 NOOP refused by rule"), "a new session has the new rules")

        // The open session was not dropped by the reload.
        try early.send("NOOP\r\n")
        #expect(try early.readReply()?.hasPrefix("250") == true, "the open session keeps the rules it started with")

        // An invalid file: the reload is refused with file:line on stderr; the rules stay.
        try scratch.write("rules:\n  - name: broken\n    command: VRFY\n    action: rejct\n", to: "rules/30-broken.yaml")
        proxy.send(signal: SIGHUP)
        #expect(proxy.waitForStandardError(containing: "30-broken.yaml:4:"), "stderr: \(proxy.standardError)")
        #expect(proxy.standardErrorCount(of: "rules reloaded") == 1)
        #expect(try noopReply(port: port).hasPrefix("550 5.7.1"), "the previous rules are still in force")
        #expect(proxy.isRunning)

        // Fixed: the next SIGHUP loads again.
        try FileManager.default.removeItem(atPath: rules + "/30-broken.yaml")
        try FileManager.default.removeItem(atPath: rules + "/20-noop.yaml")
        proxy.send(signal: SIGHUP)
        #expect(waitUntil("the second reload to be logged") { proxy.standardErrorCount(of: "rules reloaded") == 2 })
        #expect(try noopReply(port: port).hasPrefix("250"))

        try early.send("QUIT\r\n")
        #expect(try early.readReply()?.hasPrefix("221") == true)
        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 0, "stderr: \(proxy.standardError)")
        let commands = auditEvents(at: scratch.file("audit.jsonl")).named("command").filter { $0["verb"] as? String == "NOOP" }
        #expect(commands.map { $0["rule"] as? String } == [nil, "no-noop", nil, "no-noop", nil], "\(commands)")
    }

    /// SIGTERM: the listener closes at once (new connections are refused), the open session goes
    /// on to deliver a message and QUIT, then the process exits 0 and the audit log ends with that
    /// session's `session-end`.
    @Test func sigtermStopsAcceptingAndDrainsOpenSessions() async throws {
        let postfix = PostfixInstance.shared
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let logPath = scratch.file("audit.jsonl")
        let (proxy, port) = try ProxyProcess.listening(upstream: postfix.port, log: logPath)
        defer { proxy.kill() }

        let client = try OperationsClient(port: port)
        #expect(try client.readReply()?.hasPrefix("220") == true)
        try client.send("EHLO client.test\r\nMAIL FROM:<alice@example.net>\r\n")
        #expect(try client.readReplies(2).allSatisfy { $0.hasPrefix("250") })

        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForStandardError(containing: "draining"))
        #expect(OperationsClient.connectError(port: port) == ECONNREFUSED, "the listener is closed")
        #expect(proxy.isRunning, "the process waits for the open session")

        let token = opsToken("drain")
        try client.send("RCPT TO:<bob@example.org>\r\nDATA\r\n")
        #expect(try client.readReplies(2).map { String($0.prefix(3)) } == ["250", "354"])
        try client.send(messageText(token: token) + ".\r\nQUIT\r\n")
        let final = try client.readReplies(2)
        #expect(final[0].hasPrefix("250") && final[1].hasPrefix("221"), "\(final)")
        #expect(postfix.waitForMessage(containing: token) != nil)

        #expect(proxy.waitForExit() == 0, "stderr: \(proxy.standardError)")
        let events = auditEvents(at: logPath)
        let last = try #require(events.last)
        #expect(last["event"] as? String == "session-end", "\(events.eventNames)")
        #expect(last["reason"] as? String == "quit")
        #expect(last["messages"] as? Int == 1)
        #expect(events.named("session-start").count == 1)
    }

    /// The command line takes IPv6 literals in brackets and host names (SPEC §2): listen on
    /// [::1], forward to `localhost` (Postfix listens on 127.0.0.1 only).
    @Test func commandLineTakesIPv6AndHostNames() async throws {
        if let problem = ipv6LoopbackProblem() {
            Issue.record("IPv6 loopback unavailable on this machine, not tested: \(problem)")
            return
        }
        let postfix = PostfixInstance.shared
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let proxy = try ProxyProcess([
            "proxy", "--listen", "[::1]:0", "--upstream", "localhost:\(postfix.port)", "--log", scratch.file("audit.jsonl"),
        ])
        defer { proxy.kill() }
        try proxy.waitUntilListening()
        let port = try #require(proxy.listeningPort())
        let token = opsToken("cli-ipv6")
        try sendMessage(try OperationsClient(host: "::1", port: port), token: token)
        #expect(postfix.waitForMessage(containing: token) != nil)
        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 0)
        let start = try #require(auditEvents(at: scratch.file("audit.jsonl")).named("session-start").first)
        #expect((start["client"] as? String)?.contains("::1") == true, "\(start)")
    }

    @Test func sigtermWithNoOpenSessionExitsZero() async throws {
        let postfix = PostfixInstance.shared
        let (proxy, port) = try ProxyProcess.listening(upstream: postfix.port)
        defer { proxy.kill() }
        // One finished session first: the proxy is up and running (see the next test for why).
        let client = try OperationsClient(port: port)
        _ = try client.readReply()
        try client.send("QUIT\r\n")
        #expect(try client.readRepliesToEnd().first?.hasPrefix("221") == true)
        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 0, "stderr: \(proxy.standardError)")
    }

    /// A signal that arrives as soon as the listener is bound must be handled — SIGTERM stops the
    /// proxy gracefully (exit 0), SIGHUP reloads — never take its default action (termination):
    /// the listener accepts clients from that moment, so the signal handling must already be in
    /// place. The test signals the moment the port shows up as listening in /proc/net/tcp, up to
    /// 200 times: a window between binding and trapping the signal shows as an exit by signal
    /// (128 + N) in some of the attempts.
    @Test(arguments: [SIGTERM, SIGHUP])
    func signalRightAfterTheListenerIsBoundIsHandled(_ signal: Int32) async throws {
        var outcomes: [Int32?] = []
        for _ in 0..<200 {
            let port = freeLoopbackPort()
            let proxy = try ProxyProcess(["proxy", "--listen", "127.0.0.1:\(port)", "--upstream", "127.0.0.1:\(freeLoopbackPort())", "--log", "/dev/null"])
            defer { proxy.kill() }
            let listening = String(format: "0100007F:%04X 00000000:0000 0A", port)
            let deadline = Date().addingTimeInterval(30)
            while proxy.isRunning && Date() < deadline && readProcFile("/proc/net/tcp")?.contains(listening) != true {}
            proxy.send(signal: signal)
            if signal == SIGHUP {
                // The reload is logged; the proxy runs on, and stops on SIGTERM.
                _ = proxy.waitForStandardError(containing: "rules reloaded", timeout: 10)
                if proxy.isRunning { proxy.send(signal: SIGTERM) }
            }
            let status = proxy.waitForExit()
            outcomes.append(status)
            if status != 0 { break }
        }
        #expect(outcomes.allSatisfy { $0 == 0 }, "exit statuses: \(outcomes.map { $0.map(String.init) ?? "running" }) (128 + N: killed by signal N)")
    }

    struct BadStart: CustomTestStringConvertible, Sendable {
        var name: String
        var arguments: [String]
        /// Text the first line of standard error must contain.
        var reason: String
        var testDescription: String { name }
    }

    static let badStarts: [BadStart] = [
        BadStart(name: "listen address", arguments: ["--listen", "nonsense", "--upstream", "127.0.0.1:25"], reason: "--listen"),
        BadStart(name: "upstream address", arguments: ["--listen", "127.0.0.1:0", "--upstream", "[::1:25"], reason: "--upstream"),
        BadStart(name: "missing upstream", arguments: ["--listen", "127.0.0.1:0"], reason: "--upstream"),
        BadStart(name: "max-connections", arguments: ["--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:25", "--max-connections", "0"],
            reason: "--max-connections"),
        BadStart(name: "idle-timeout", arguments: ["--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:25", "--idle-timeout", "-3"],
            reason: "idle-timeout"),
        BadStart(name: "tls mode", arguments: ["--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:25", "--tls", "bogus"], reason: "--tls"),
        BadStart(name: "unknown option", arguments: ["--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:25", "--bogus"], reason: "--bogus"),
    ]

    /// Bad usage: exit 2, the reason on the first line of stderr (ArgumentParser adds its usage
    /// lines after it), never a crash.
    @Test(arguments: badStarts)
    func badUsageExitsTwoWithTheReason(_ bad: BadStart) async throws {
        let result = try ProxyProcess.runToExit(["proxy"] + bad.arguments)
        #expect(result.status == 2, "exit \(String(describing: result.status)); stderr: \(result.error)")
        let firstLine = result.error.split(separator: "\n").first.map(String.init) ?? ""
        #expect(firstLine.contains(bad.reason), "stderr: \(result.error)")
    }

    /// Bad configuration found at start (rules, audit log, listener): exit 2 and exactly one line.
    @Test func invalidConfigurationExitsTwoWithOneLine() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write("rules:\n  - name: broken\n    command: VRFY\n    action: rejct\n", to: "broken.yaml")
        let occupied = try FakeUpstream { _ in }
        defer { occupied.stop() }
        let cases: [(arguments: [String], reason: String)] = [
            (["--filters", scratch.file("broken.yaml")], scratch.file("broken.yaml") + ":4:"),
            (["--filters", scratch.file("missing.yaml")], "missing.yaml"),
            (["--log", scratch.file("no/such/dir/audit.jsonl")], "cannot open audit log"),
        ]
        for entry in cases {
            let result = try ProxyProcess.runToExit(
                ["proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(occupied.port)"] + entry.arguments)
            #expect(result.status == 2, "\(entry.arguments): exit \(String(describing: result.status)); stderr: \(result.error)")
            let lines = result.error.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(entry.reason), "\(entry.arguments): stderr: \(result.error)")
        }
        let busy = try ProxyProcess.runToExit(["proxy", "--listen", "127.0.0.1:\(occupied.port)", "--upstream", "127.0.0.1:25"])
        #expect(busy.status == 2, "exit \(String(describing: busy.status)); stderr: \(busy.error)")
        let lines = busy.error.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("cannot listen on 127.0.0.1:\(occupied.port)"), "stderr: \(busy.error)")
    }

    /// The reply to NOOP in a fresh session.
    private func noopReply(port: Int) throws -> String {
        let client = try OperationsClient(port: port)
        _ = try client.readReply()
        try client.send("EHLO client.test\r\nNOOP\r\nQUIT\r\n")
        return try client.readReplies(3)[1]
    }
}

extension ProxyProcess {
    /// The port of the proxy's listener, from its `listening` notice
    /// (`listen=[IPv4]127.0.0.1/127.0.0.1:36235 upstream=…`).
    func listeningPort() -> Int? { listeningNoticePort("listen") }

    /// The port of an address in the `listening` notice (`key=…:PORT`).
    func listeningNoticePort(_ key: String) -> Int? {
        for line in standardError.split(separator: "\n") where line.contains("listening") {
            guard let range = line.range(of: key + "=") else { continue }
            let address = line[range.upperBound...].prefix { $0 != " " }
            guard let colon = address.lastIndex(of: ":") else { continue }
            return Int(address[address.index(after: colon)...])
        }
        return nil
    }
}
