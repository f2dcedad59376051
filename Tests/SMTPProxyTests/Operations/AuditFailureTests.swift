import Foundation
import Testing

/// `--audit-failure`: the audit log on a device that refuses writes. `/dev/full` fails every
/// write; a tiny tmpfs (mounted by the test in the proxy's own mount namespace) is filled while a
/// session is open and emptied again. The upstream is a scripted server that records the
/// Message-ID of every message it receives, so the test knows what was delivered, and the log,
/// read at the end, must hold exactly one `message` event for each of those.
@Suite("Audit log failure", .serialized)
struct AuditFailureTests {
    @Test("/dev/full: one line on stderr, the counter, 451 to MAIL and 421 to new sessions; nothing reaches the upstream")
    func devFull() throws {
        let upstream = try MessageRecordingUpstream()
        let proxy = try ProxyProcess([
            "proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(upstream.server.port)", "--log", "/dev/full",
            "--metrics", "127.0.0.1:0",
        ])
        defer { proxy.kill() }
        try proxy.waitUntilListening()
        let port = try #require(proxy.listeningPort())
        let metricsPort = try #require(proxy.metricsPort())

        // The first session is accepted: nothing has been written yet, so nothing has failed.
        let (client, greeting) = try MailExchange.session(port: port)
        #expect(greeting.hasPrefix("220"))
        // Its first lines reach the log within 200 ms, and fail.
        #expect(proxy.waitForStandardError(containing: "audit log /dev/full: write failed: No space left on device"))
        let refused = try MailExchange.send(client, id: "<refused@test>")
        #expect(refused.mail.hasPrefix("451 4.3.0"), "\(refused)")
        let (late, lateGreeting) = try MailExchange.session(port: port)
        #expect(lateGreeting.hasPrefix("421 4.3.0"), "\(lateGreeting)")
        #expect(try late.isClosedByPeer())
        late.close()

        // Retried every 200 ms, each failure counted; still one line on standard error.
        _ = try waitUntil("three failed writes counted") {
            (try MetricsScrape.metrics(port: metricsPort).value("smtp_inspect_audit_write_errors_total") ?? 0) >= 3
        }
        #expect(proxy.standardErrorCount(of: "write failed") == 1, "\(proxy.standardError)")
        #expect(!proxy.standardError.contains("writable again"))
        try MailExchange.quit(client)
        #expect(upstream.messages.isEmpty)
        #expect(!upstream.commands.contains("MAIL"), "\(upstream.commands)")
        #expect(upstream.server.accepted == 1, "the refused session never reached the upstream")

        // Stopping with lines that never reached the log is not a clean exit.
        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 1)
        #expect(proxy.standardError.contains("audit log /dev/full: closed with"), "\(proxy.standardError)")
    }

    @Test("--audit-failure continue: /dev/full is reported, mail still flows")
    func continuePolicy() throws {
        let upstream = try MessageRecordingUpstream()
        let proxy = try ProxyProcess([
            "proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(upstream.server.port)", "--log", "/dev/full",
            "--audit-failure", "continue",
        ])
        defer { proxy.kill() }
        try proxy.waitUntilListening()
        let port = try #require(proxy.listeningPort())
        let (client, _) = try MailExchange.session(port: port)
        #expect(proxy.waitForStandardError(containing: "write failed"))
        let sent = try MailExchange.send(client, id: "<continued@test>")
        #expect(sent.mail.hasPrefix("250") && sent.end?.hasPrefix("250") == true, "\(sent)")
        let (second, greeting) = try MailExchange.session(port: port)
        #expect(greeting.hasPrefix("220"))
        try MailExchange.quit(second)
        try MailExchange.quit(client)
        #expect(upstream.messages == ["<continued@test>"])
    }

    @Test("bad --audit-failure value: one line, exit 2")
    func badValue() throws {
        let result = try ProxyProcess.runToExit(["proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:25", "--audit-failure", "ignore"])
        #expect(result.status == 2)
        #expect(result.error.contains("--audit-failure: expected tempfail or continue"), "\(result.error)")
    }

    /// The full-disk test. The proxy runs in its own mount namespace with its log on a 256 KiB
    /// tmpfs; the test reaches that tmpfs through /proc/PID/root. Timeline (printed):
    /// message 1 and 2 delivered and logged → the tmpfs is filled while session A is open →
    /// the failure is reported → message 3 (session A) gets 451, session B gets 421 → the filler
    /// is deleted → the backlog is written → message 4 (session A) and 5 (session C) delivered.
    @Test("a tmpfs filled during a session: 451/421 while full, nothing delivered unaudited, recovery when space returns")
    func fullDisk() throws {
        guard getuid() == 0 else {
            Issue.record("needs root (mount namespace and tmpfs)")
            return
        }
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let mountPoint = scratch.file("tmpfs")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let upstream = try MessageRecordingUpstream()
        let proxy = try ProxyProcess(
            [
                "proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(upstream.server.port)", "--log", mountPoint + "/audit.jsonl",
                "--metrics", "127.0.0.1:0",
            ],
            launcher: ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                "mount -t tmpfs -o size=256k smtp-inspect-test \(mountPoint) && exec \"$0\" \"$@\""])
        defer { proxy.kill() }
        try proxy.waitUntilListening()
        let port = try #require(proxy.listeningPort())
        let metricsPort = try #require(proxy.metricsPort())
        // The proxy's view of the tmpfs (the test's own view of the directory is still empty).
        let inside = "/proc/\(proxy.pid)/root" + mountPoint
        let log = inside + "/audit.jsonl"
        #expect(!FileManager.default.fileExists(atPath: mountPoint + "/audit.jsonl"), "the tmpfs is the proxy's alone")

        let start = Date()
        var timeline: [String] = []
        func mark(_ what: String) { timeline.append(String(format: "%7.3f s  %@", Date().timeIntervalSince(start), what)) }

        let (a, greetingA) = try MailExchange.session(port: port)
        #expect(greetingA.hasPrefix("220"))
        for id in ["<m1@test>", "<m2@test>"] {
            let sent = try MailExchange.send(a, id: id)
            #expect(sent.end?.hasPrefix("250") == true, "\(id): \(sent)")
        }
        _ = waitUntil("message 2 logged") { (try? String(contentsOfFile: log, encoding: .utf8))?.contains("<m2@test>") == true }
        mark("messages 1 and 2 delivered and logged")

        // Fill the tmpfs to the last block.
        let filler = inside + "/filler"
        let fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(fd >= 0, "cannot create \(filler): \(String(cString: strerror(errno)))")
        let block = [UInt8](repeating: 0x58, count: 4096)
        var filled = 0
        var fillError: Int32 = 0
        while true {
            let written = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written <= 0 {
                fillError = errno
                break
            }
            filled += written
        }
        close(fd)
        #expect(fillError == ENOSPC)
        mark("tmpfs filled (\(filled) octets of filler) while session A is open")

        // Session A goes on; its next lines cannot be written once the log's last page is full
        // (tmpfs allocates by page: the few bytes left there still take a line or two).
        var noops = 0
        let failed = try waitUntil("the log write to fail") {
            try a.send("NOOP\r\n")
            _ = try a.readReply()
            noops += 1
            return proxy.standardError.contains("write failed: No space left on device")
        }
        #expect(failed)
        mark("proxy reports (after \(noops) NOOPs in session A): \(proxy.standardError.split(separator: "\n").first { $0.contains("write failed") } ?? "?")")
        let refused = try MailExchange.send(a, id: "<m3@test>")
        #expect(refused.mail.hasPrefix("451 4.3.0"), "\(refused)")
        mark("message 3 (session A): MAIL answered \(refused.mail.trimmingCharacters(in: .whitespacesAndNewlines))")
        let (b, greetingB) = try MailExchange.session(port: port)
        #expect(greetingB.hasPrefix("421 4.3.0"), "\(greetingB)")
        #expect(try b.isClosedByPeer())
        b.close()
        mark("session B refused at connect: \(greetingB.trimmingCharacters(in: .whitespacesAndNewlines))")
        let errors = try MetricsScrape.metrics(port: metricsPort).value("smtp_inspect_audit_write_errors_total") ?? 0
        #expect(errors >= 1)
        mark("smtp_inspect_audit_write_errors_total = \(Int(errors))")

        // Space returns.
        try FileManager.default.removeItem(atPath: filler)
        mark("filler deleted")
        #expect(proxy.waitForStandardError(containing: "writable again"))
        mark("proxy reports: \(proxy.standardError.split(separator: "\n").first { $0.contains("writable again") } ?? "?")")
        let resumed = try MailExchange.send(a, id: "<m4@test>")
        #expect(resumed.end?.hasPrefix("250") == true, "\(resumed)")
        mark("message 4 (session A) delivered")
        let (c, greetingC) = try MailExchange.session(port: port)
        #expect(greetingC.hasPrefix("220"))
        let fresh = try MailExchange.send(c, id: "<m5@test>")
        #expect(fresh.end?.hasPrefix("250") == true, "\(fresh)")
        mark("message 5 (new session C) delivered")
        try MailExchange.quit(c)
        try MailExchange.quit(a)

        // Three sessions ended (B, C, A): the last one's end flushes the log.
        var text = ""
        _ = waitUntil("three session-end events in the log") {
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.components(separatedBy: #""event":"session-end""#).count - 1 == 3
        }
        print("full-disk timeline:\n" + timeline.joined(separator: "\n"))

        // What was delivered, and what the log says.
        #expect(upstream.messages == ["<m1@test>", "<m2@test>", "<m4@test>", "<m5@test>"])
        let lines = text.split(separator: "\n")
        let events = lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        #expect(events.count == lines.count, "every line of the log is whole JSON (a line cut by the full disk was completed)")
        let messages = events.filter { $0["event"] as? String == "message" }
        for id in upstream.messages {
            let logged = messages.filter { $0["message_id"] as? String == id }
            #expect(logged.count == 1, "\(id) is logged exactly once: \(logged)")
            #expect(logged.first?["result"] as? Int == 250)
        }
        #expect(messages.count == 4, "\(messages)")
        let gated = events.filter { $0["event"] as? String == "command" && $0["rule"] as? String == "audit-failure" }
        #expect(gated.count == 1 && gated.first?["verb"] as? String == "MAIL" && gated.first?["action"] as? String == "reject", "\(gated)")
        let ends = events.filter { $0["event"] as? String == "session-end" }.compactMap { $0["reason"] as? String }
        #expect(ends.filter { $0 == "audit-log-failing" }.count == 1, "session B's record was kept and written late: \(ends)")
        #expect(proxy.standardErrorCount(of: "write failed") == 1)
        #expect(proxy.standardErrorCount(of: "writable again") == 1)
    }
}
