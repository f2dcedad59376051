import Foundation
import Testing

/// Client limits (SPEC §10) against real peers: Postfix authenticating with Cyrus SASL's sasldb,
/// Postfix refusing unknown mailboxes with 550 5.1.1, clients from many loopback addresses. Every
/// limit is checked both ways: the offender is stopped, and other clients are not.
@Suite(.serialized) struct ClientLimitsTests {
    /// Lines of Postfix's log that record a connection accepted by smtpd.
    static func upstreamConnections(_ postfix: PostfixInstance) -> Int {
        postfix.log().components(separatedBy: "\n").filter { $0.contains("postfix/smtpd") && $0.contains(" connect from ") }.count
    }

    static func upstreamDisconnections(_ postfix: PostfixInstance) -> Int {
        postfix.log().components(separatedBy: "\n").filter { $0.contains("postfix/smtpd") && $0.contains(" disconnect from ") }.count
    }

    /// One session: greeting, EHLO, AUTH PLAIN with `password`, QUIT; the AUTH reply (or the
    /// greeting when it is not a 220).
    static func login(port: Int, source: String, password: String) throws -> String {
        let client = try RawSMTPClient(port: port, source: source)
        let greeting = try client.readReply() ?? "<closed>"
        guard greeting.hasPrefix("220") else { return greeting }
        try client.send("EHLO client.test\r\n")
        _ = try client.readReply()
        let reply = try SASLPostfix.authenticate(client, password: password)
        try? client.send("QUIT\r\n")
        _ = try? client.readReply()
        return reply
    }

    static func seconds(since start: Date) -> String { String(format: "%6.2fs", Date().timeIntervalSince(start)) }

    /// The brute-force timeline: five failed logins over five sessions, the ban, sessions refused
    /// at connect before Postfix is contacted (even with the right password), a well-behaved
    /// client from another address logging in meanwhile, and the ban expiring.
    @Test func passwordGuessingIsBannedAtConnectUntilTheBanExpires() throws {
        let postfix = try SASLPostfix.start()
        defer { postfix.stop() }
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write(
            """
            client-limits:
              - name: auth-guessing
                count: auth-failures
                max: 5
                per: 10m
                action: ban
                for: 4s
            """, to: "limits.yaml")
        let log = scratch.file("audit.jsonl")
        let (proxy, port) = try ProxyProcess.listening(
            upstream: postfix.port, log: log, ["--filters", scratch.file("limits.yaml"), "--metrics", "127.0.0.1:0"])
        defer { proxy.kill() }
        let start = Date()
        var timeline: [String] = []

        for attempt in 1...5 {
            let reply = try Self.login(port: port, source: "127.0.0.20", password: "guess-\(attempt)")
            #expect(reply.hasPrefix("535 5.7.8"), "attempt \(attempt): \(reply)")
            timeline.append("\(Self.seconds(since: start)) failure \(attempt): \(reply.prefix(28))")
        }
        #expect(waitUntil("Postfix to log the five sessions") { Self.upstreamDisconnections(postfix) >= 6 })  // + its start-up probe
        let connectionsBefore = Self.upstreamConnections(postfix)

        let refused = try Self.login(port: port, source: "127.0.0.20", password: SASLPostfix.password)
        #expect(refused.hasPrefix("421 4.7.0"), "\(refused)")
        timeline.append("\(Self.seconds(since: start)) banned, refused at connect: \(refused.prefix(50))")
        let refusedAgain = try Self.login(port: port, source: "127.0.0.20", password: SASLPostfix.password)
        #expect(refusedAgain.hasPrefix("421 4.7.0"))

        let other = try Self.login(port: port, source: "127.0.0.21", password: SASLPostfix.password)
        #expect(other.hasPrefix("235"), "a client from another address: \(other)")
        timeline.append("\(Self.seconds(since: start)) another address logs in: \(other.prefix(32))")
        #expect(waitUntil("Postfix to log the other client's session") { Self.upstreamDisconnections(postfix) >= 7 })
        #expect(Self.upstreamConnections(postfix) == connectionsBefore + 1, "the refused sessions never reached Postfix")

        #expect(waitUntil("the two refusals in the audit log") {
            auditEvents(at: log).filter { $0["event"] as? String == "session-end" && $0["reason"] as? String == "client-limit" }.count == 2
        })
        let limits = auditEvents(at: log).filter { $0["event"] as? String == "limit" }
        #expect(limits.count == 2)
        let ban = try #require(limits.first)
        #expect(ban["rule"] as? String == "auth-guessing")
        #expect(ban["key"] as? String == "127.0.0.20")
        #expect(ban["count"] as? Int == 5)
        #expect(ban["action"] as? String == "ban")
        let untilText = try #require(ban["until"] as? String)
        let until = try #require(ISO8601DateFormatter.withFractions.date(from: untilText))
        let refusedEnds = auditEvents(at: log).filter { $0["event"] as? String == "session-end" && $0["reason"] as? String == "client-limit" }
        #expect(refusedEnds.count == 2)

        let metrics = try MetricsScrape.metrics(port: try #require(proxy.metricsPort()))
        #expect(metrics.value("smtp_inspect_client_limit_hits_total", ["rule": "auth-guessing", "action": "ban"]) == 2)
        #expect((metrics.value("smtp_inspect_client_limit_keys") ?? 0) >= 1)

        // The ban ends at `until` (the proxy's clock): the same address may log in again.
        #expect(waitUntil("the ban to end", timeout: 30) { Date() > until.addingTimeInterval(0.2) })
        let back = try Self.login(port: port, source: "127.0.0.20", password: SASLPostfix.password)
        #expect(back.hasPrefix("235"), "after the ban: \(back)")
        timeline.append("\(Self.seconds(since: start)) ban over (until \(untilText)): \(back.prefix(32))")
        print("brute-force timeline:\n" + timeline.joined(separator: "\n"))
    }

    /// The session that reaches the ban is closed at its next AUTH.
    @Test func theGuessingSessionItselfIsClosedAtItsNextAuth() throws {
        let postfix = try SASLPostfix.start()
        defer { postfix.stop() }
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write(
            "client-limits:\n  - name: auth-guessing\n    count: auth-failures\n    max: 3\n    per: 10m\n    action: ban\n    for: 1m\n",
            to: "limits.yaml")
        let (proxy, port) = try ProxyProcess.listening(upstream: postfix.port, log: "/dev/null", ["--filters", scratch.file("limits.yaml")])
        defer { proxy.kill() }
        let client = try RawSMTPClient(port: port, source: "127.0.0.22")
        #expect(try client.readReply()?.hasPrefix("220") == true)
        try client.send("EHLO client.test\r\n")
        _ = try client.readReply()
        for attempt in 1...3 {
            #expect(try SASLPostfix.authenticate(client, password: "guess-\(attempt)").hasPrefix("535"))
        }
        #expect(try SASLPostfix.authenticate(client, password: SASLPostfix.password).hasPrefix("421 4.7.0"))
        #expect(try client.readToEnd().isEmpty, "closed after the 421")
    }

    /// `key: user`: one account guessed from many addresses (each address failing once, by
    /// AUTH PLAIN and by AUTH LOGIN) is banned by its name. The banned account is refused at the
    /// AUTH that names it (for LOGIN: at the user name, before the password reaches Postfix),
    /// from a fresh address and with the right password; another account logs in from an
    /// address that guessed, and the account's guessers may still log in as someone else.
    @Test func oneAccountGuessedFromManyAddressesIsBannedByItsName() throws {
        let postfix = try SASLPostfix.start()
        defer { postfix.stop() }
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write(
            """
            client-limits:
              - name: account-guessing
                count: auth-failures
                max: 4
                per: 10m
                key: user
                action: ban
                for: 10m
            """, to: "limits.yaml")
        let log = scratch.file("audit.jsonl")
        let (proxy, port) = try ProxyProcess.listening(upstream: postfix.port, log: log, ["--filters", scratch.file("limits.yaml")])
        defer { proxy.kill() }

        /// One session from `source`: EHLO, one AUTH (LOGIN or PLAIN), QUIT; the AUTH's reply.
        func attempt(_ source: String, user: String, password: String, login: Bool) throws -> String {
            let client = try RawSMTPClient(port: port, source: source)
            let greeting = try client.readReply() ?? "<closed>"
            guard greeting.hasPrefix("220") else { return greeting }
            try client.send("EHLO client.test\r\n")
            _ = try client.readReply()
            let reply =
                login
                ? try SASLPostfix.authenticateByLOGIN(client, user: user, password: password)
                : try SASLPostfix.authenticate(client, user: user, password: password)
            try? client.send("QUIT\r\n")
            _ = try? client.readReply()
            return reply
        }
        func failures() -> Int {
            postfix.log().components(separatedBy: "\n").filter { $0.contains("authentication failed") }.count
        }

        let guessers = ["127.0.0.60", "127.0.0.61", "127.0.0.62", "127.0.0.63"]
        for (index, source) in guessers.enumerated() {
            let reply = try attempt(source, user: SASLPostfix.user, password: "guess-\(index)", login: index % 2 == 1)
            #expect(reply.hasPrefix("535 5.7.8"), "guess \(index + 1) from \(source): \(reply)")
        }
        #expect(waitUntil("Postfix to log the four failures") { failures() == 4 })

        // The account is banned wherever its guesses come from, even with the right password.
        let byLOGIN = try attempt("127.0.0.64", user: SASLPostfix.user, password: SASLPostfix.password, login: true)
        #expect(byLOGIN.hasPrefix("421 4.7.0"), "\(byLOGIN)")
        let byPLAIN = try attempt("127.0.0.65", user: SASLPostfix.user, password: SASLPostfix.password, login: false)
        #expect(byPLAIN.hasPrefix("421 4.7.0"), "\(byPLAIN)")

        // Nobody else is: another account from a guessing address, by either mechanism.
        let other = try attempt(guessers[0], user: SASLPostfix.otherUser, password: SASLPostfix.password, login: true)
        #expect(other.hasPrefix("235"), "another account from a guessing address: \(other)")
        let otherPlain = try attempt("127.0.0.66", user: SASLPostfix.otherUser, password: SASLPostfix.password, login: false)
        #expect(otherPlain.hasPrefix("235"), "\(otherPlain)")

        #expect(waitUntil("the sessions' ends in the audit log") {
            auditEvents(at: log).filter { $0["event"] as? String == "session-end" }.count == 8
        })
        // The banned attempts never reached Postfix's authentication: still four failures.
        #expect(failures() == 4)
        let limits = auditEvents(at: log).filter { $0["event"] as? String == "limit" }
        #expect(limits.count == 2)
        #expect(limits.allSatisfy { $0["key"] as? String == "user:\(SASLPostfix.user)" && $0["rule"] as? String == "account-guessing" }, "\(limits)")
        #expect(limits.first?["action"] as? String == "ban")
        #expect(limits.first?["count"] as? Int == 4)
        // Nothing of a password is in the audit log.
        let text = try String(contentsOfFile: log, encoding: .utf8)
        for secret in [SASLPostfix.password, Data(SASLPostfix.password.utf8).base64EncodedString()] {
            #expect(!text.contains(secret))
        }
    }

    /// A harvester probing mailboxes gets Postfix's 550 5.1.1; past `max` every command of its
    /// address waits `delay`. A well-behaved client and an exempt one are never slowed.
    @Test func harvestingIsTarpittedAndNobodyElseIs() throws {
        let postfix = try PostfixInstance(extraMainCF: ["virtual_mailbox_maps = inline:{ {alice@example.org=box/} }"])
        defer { postfix.stop() }
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write(
            """
            client-limits:
              - name: harvest
                count: unknown-recipients
                max: 3
                per: 1h
                action: tarpit
                delay: 2s
              - name: monitoring
                client: [127.0.0.25/32]
                action: exempt
            """, to: "limits.yaml")
        let log = scratch.file("audit.jsonl")
        let (proxy, port) = try ProxyProcess.listening(upstream: postfix.port, log: log, ["--filters", scratch.file("limits.yaml")])
        defer { proxy.kill() }

        /// Opens a transaction from `source`; RCPT for each name, with the time each reply took.
        func probe(_ source: String, _ names: [String]) throws -> [(reply: String, seconds: Double)] {
            let client = try RawSMTPClient(port: port, source: source)
            _ = try client.readReply()
            try client.send("EHLO client.test\r\n")
            _ = try client.readReply()
            try client.send("MAIL FROM:<probe@example.net>\r\n")
            _ = try client.readReply()
            var replies: [(String, Double)] = []
            for name in names {
                let sent = Date()
                try client.send("RCPT TO:<\(name)@example.org>\r\n")
                replies.append((try client.readReply() ?? "<closed>", Date().timeIntervalSince(sent)))
            }
            try client.send("QUIT\r\n")
            _ = try client.readReply()
            return replies
        }

        let harvest = try probe("127.0.0.23", ["root", "admin", "info", "sales", "alice"])
        for index in 0..<3 {
            #expect(harvest[index].reply.hasPrefix("550 5.1.1"), "\(harvest[index].reply)")
            #expect(harvest[index].seconds < 1.5, "before the limit: \(harvest[index].seconds)s")
        }
        #expect(harvest[3].reply.hasPrefix("550 5.1.1"))
        #expect(harvest[3].seconds >= 2, "tarpitted: \(harvest[3].seconds)s")
        #expect(harvest[4].reply.hasPrefix("250"), "handled normally after the wait: \(harvest[4].reply)")
        #expect(harvest[4].seconds >= 2)

        let wellBehaved = try probe("127.0.0.24", ["alice", "alice"])
        #expect(wellBehaved.allSatisfy { $0.reply.hasPrefix("250") && $0.seconds < 1.5 })
        let exempt = try probe("127.0.0.25", ["root", "admin", "info", "sales", "www"])
        #expect(exempt.allSatisfy { $0.reply.hasPrefix("550 5.1.1") && $0.seconds < 1.5 }, "\(exempt)")

        #expect(waitUntil("the sessions' ends in the audit log") {
            auditEvents(at: log).filter { $0["event"] as? String == "session-end" }.count == 3
        })
        let limits = auditEvents(at: log).filter { $0["event"] as? String == "limit" }
        #expect(limits.map { $0["key"] as? String } == ["127.0.0.23"], "one report for the harvesting session")
        #expect(limits.first?["action"] as? String == "tarpit")
        #expect(limits.first?["count"] as? Int == 3)
    }

    /// 50 connections at once: from one address only `max` reach Postfix; from 50 addresses all do.
    @Test func fiftyParallelSessionsFromOneAddressAndFromFifty() throws {
        let postfix = try PostfixInstance()
        defer { postfix.stop() }
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write(
            "client-limits:\n  - name: sessions-per-address\n    count: sessions\n    max: 10\n    action: reject\n", to: "limits.yaml")
        let log = scratch.file("audit.jsonl")
        let (proxy, port) = try ProxyProcess.listening(upstream: postfix.port, log: log, ["--filters", scratch.file("limits.yaml")])
        defer { proxy.kill() }
        #expect(waitUntil("Postfix's start-up probe to be logged") { Self.upstreamDisconnections(postfix) >= 1 })
        let before = Self.upstreamConnections(postfix)

        // One address: the connections stay open while the next ones come.
        var open: [RawSMTPClient] = []
        var greetings: [String] = []
        for _ in 0..<50 {
            let client = try RawSMTPClient(port: port, source: "127.0.0.30")
            greetings.append(try client.readReply() ?? "<closed>")
            open.append(client)
        }
        #expect(greetings.filter { $0.hasPrefix("220") }.count == 10)
        #expect(greetings.filter { $0.hasPrefix("421 4.7.0") }.count == 40)
        #expect(waitUntil("Postfix to log the accepted sessions") { Self.upstreamConnections(postfix) >= before + 10 })
        #expect(Self.upstreamConnections(postfix) == before + 10, "the refused 40 never reached Postfix")

        // Fifty addresses, one session each, while the first ten are still open.
        var others: [RawSMTPClient] = []
        var otherGreetings: [String] = []
        for index in 1...50 {
            let client = try RawSMTPClient(port: port, source: "127.0.1.\(index)")
            otherGreetings.append(try client.readReply() ?? "<closed>")
            others.append(client)
        }
        #expect(otherGreetings.allSatisfy { $0.hasPrefix("220") }, "\(otherGreetings.filter { !$0.hasPrefix("220") })")

        // Sessions that end free their place.
        for client in open { try? client.send("QUIT\r\n") }
        open.removeAll()
        #expect(waitUntil("the first address's sessions to end") {
            auditEvents(at: log).filter { $0["event"] as? String == "session-end" && $0["reason"] as? String == "quit" }.count >= 10
        })
        let again = try RawSMTPClient(port: port, source: "127.0.0.30")
        #expect(try again.readReply()?.hasPrefix("220") == true)
        let refused = auditEvents(at: log).filter { $0["event"] as? String == "limit" }
        #expect(refused.count == 40)
        #expect(refused.allSatisfy { $0["key"] as? String == "127.0.0.30" && $0["count"] as? Int == 10 }, "\(refused.map { $0["count"] ?? "-" })")
        _ = others
    }
}

extension ISO8601DateFormatter {
    /// `2026-12-07T21:48:23.764000Z`, as the audit log writes times.
    static var withFractions: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}

/// Client limits across reloads, in a dry run, and by IPv6 network.
@Suite(.serialized) struct ClientLimitsOperationsTests {
    static let guessing = """
        client-limits:
          - name: auth-guessing
            count: auth-failures
            max: 4
            per: 10m
            action: ban
            for: 1m
        """

    /// SIGHUP keeps the counters of limits that keep their name: two failures before the reload
    /// and two after ban the address.
    @Test func aReloadKeepsTheCounts() throws {
        let postfix = try SASLPostfix.start()
        defer { postfix.stop() }
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write(Self.guessing, to: "limits.yaml")
        let (proxy, port) = try ProxyProcess.listening(upstream: postfix.port, log: "/dev/null", ["--filters", scratch.file("limits.yaml")])
        defer { proxy.kill() }
        for attempt in 1...2 {
            #expect(try ClientLimitsTests.login(port: port, source: "127.0.0.40", password: "guess-\(attempt)").hasPrefix("535"))
        }
        try scratch.write(Self.guessing + "\n  - name: open\n    count: sessions\n    max: 50\n    action: reject\n", to: "limits.yaml")
        proxy.send(signal: SIGHUP)
        #expect(proxy.waitForStandardError(containing: "rules reloaded"))
        for attempt in 3...4 {
            #expect(try ClientLimitsTests.login(port: port, source: "127.0.0.40", password: "guess-\(attempt)").hasPrefix("535"))
        }
        #expect(try ClientLimitsTests.login(port: port, source: "127.0.0.40", password: SASLPostfix.password).hasPrefix("421 4.7.0"))
    }

    /// `--dry-run`: the ban is logged as `would-ban` and nobody is refused.
    @Test func aDryRunRefusesNobody() throws {
        let postfix = try SASLPostfix.start()
        defer { postfix.stop() }
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write(Self.guessing, to: "limits.yaml")
        let log = scratch.file("audit.jsonl")
        let (proxy, port) = try ProxyProcess.listening(upstream: postfix.port, log: log, ["--filters", scratch.file("limits.yaml"), "--dry-run"])
        defer { proxy.kill() }
        for attempt in 1...4 {
            #expect(try ClientLimitsTests.login(port: port, source: "127.0.0.41", password: "guess-\(attempt)").hasPrefix("535"))
        }
        #expect(try ClientLimitsTests.login(port: port, source: "127.0.0.41", password: SASLPostfix.password).hasPrefix("235"))
        #expect(waitUntil("the sessions in the audit log") { auditEvents(at: log).filter { $0["event"] as? String == "session-end" }.count == 5 })
        let limits = auditEvents(at: log).filter { $0["event"] as? String == "limit" }
        #expect(limits.map { $0["action"] as? String } == ["would-ban"])
        #expect(limits.first?["until"] is String)
    }

    /// Sessions from one IPv6 /64 count together; another /64 is a different key. The client
    /// addresses are added to the loopback interface for the test (a ULA prefix) and removed.
    @Test func anIPv6NetworkCountsAsOne() throws {
        let prefix = "fd15:\(String(UInt16.random(in: 0x100...0xFFFF), radix: 16))"
        let sources = ["\(prefix):0:1::a", "\(prefix):0:1::b", "\(prefix):0:1::c", "\(prefix):0:2::a"]
        for source in sources { try ExternalProcess.run("ip", ["-6", "addr", "add", "\(source)/128", "dev", "lo", "nodad"]) }
        defer { for source in sources { _ = try? ExternalProcess.run("ip", ["-6", "addr", "del", "\(source)/128", "dev", "lo"]) } }
        let postfix = try PostfixInstance()
        defer { postfix.stop() }
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write(
            "client-limits:\n  - name: per-network\n    count: sessions\n    max: 2\n    key: network\n    action: reject\n", to: "limits.yaml")
        let log = scratch.file("audit.jsonl")
        let proxy = try ProxyProcess([
            "proxy", "--listen", "[::1]:0", "--upstream", "127.0.0.1:\(postfix.port)", "--log", log, "--filters", scratch.file("limits.yaml"),
        ])
        defer { proxy.kill() }
        try proxy.waitUntilListening()
        let port = try #require(proxy.listeningPort())
        // Python's socket module: connect from each source in turn, keeping every connection
        // open, and print each greeting's first line.
        let script = """
            import socket, sys
            held = []
            for source in sys.argv[2:]:
                s = socket.create_connection(("::1", int(sys.argv[1])), timeout=20, source_address=(source, 0))
                held.append(s)
                print(source, s.makefile("rb").readline().decode().strip(), flush=True)
            """
        let result = try ExternalProcess.run("python3", ["-c", script, String(port)] + sources)
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(result.error)")
        #expect(lines.count == 4 && lines[0].contains(" 220 ") && lines[1].contains(" 220 "), "\(lines)")
        #expect(lines.count == 4 && lines[2].contains(" 421 4.7.0"), "the third of one /64: \(lines)")
        #expect(lines.count == 4 && lines[3].contains(" 220 "), "another /64: \(lines)")
        #expect(waitUntil("the limit event in the audit log") { auditEvents(at: log).contains { $0["event"] as? String == "limit" } })
        let limits = auditEvents(at: log).filter { $0["event"] as? String == "limit" }
        #expect(limits.map { $0["key"] as? String } == ["\(prefix):0:1::/64"])
    }
}

/// `replay` runs the same limits in capture time (SPEC §10): a brute-force attack recorded by the
/// live proxy replays to the same `limit` events and refusals.
@Suite(.serialized) struct ClientLimitsReplayTests {
    /// The comparable part of a `limit` event or a session's end.
    static func signature(_ event: [String: Any]) -> String? {
        switch event["event"] as? String {
        case "limit": "limit \(event["rule"] ?? "") \(event["key"] ?? "") \(event["count"] ?? "") \(event["action"] ?? "")"
        case "session-end": "end \(event["reason"] ?? "")"
        default: nil
        }
    }

    @Test
    func aRecordedAttackReplaysToTheSameBans() throws {
        let postfix = try SASLPostfix.start()
        defer { postfix.stop() }
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write(ClientLimitsOperationsTests.guessing, to: "limits.yaml")
        let log = scratch.file("audit.jsonl")
        let pcap = scratch.file("attack.pcap")
        let (proxy, port) = try ProxyProcess.listening(
            upstream: postfix.port, log: log, ["--filters", scratch.file("limits.yaml"), "--record", pcap])
        for attempt in 1...4 {
            #expect(try ClientLimitsTests.login(port: port, source: "127.0.0.50", password: "guess-\(attempt)").hasPrefix("535"))
        }
        for _ in 1...2 {
            #expect(try ClientLimitsTests.login(port: port, source: "127.0.0.50", password: SASLPostfix.password).hasPrefix("421 4.7.0"))
        }
        #expect(waitUntil("six sessions in the audit log") { auditEvents(at: log).filter { $0["event"] as? String == "session-end" }.count == 6 })
        proxy.send(signal: SIGTERM)
        _ = proxy.waitForExit()

        let replay = try ProxyProcess.runToExit(["replay", pcap, "--filters", scratch.file("limits.yaml"), "--format", "json"])
        #expect(replay.status == 0, "\(replay.error)")
        let replayed = replay.output.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        // Sessions overlap a little live (a session's end may be logged after the next one's
        // refusal): compare the limit events in order and the end reasons as counts.
        let live = auditEvents(at: log).compactMap(Self.signature)
        let again = replayed.compactMap(Self.signature)
        #expect(live.filter { $0.hasPrefix("limit") }.count == 2)
        #expect(again.filter { $0.hasPrefix("limit") } == live.filter { $0.hasPrefix("limit") })
        #expect(again.filter { $0.hasPrefix("end") }.sorted() == live.filter { $0.hasPrefix("end") }.sorted())
    }
}
