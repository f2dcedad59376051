import Foundation
import SMTPCore
import SMTPReplay
import Testing

/// `replay --to`: the repository's captures re-sent to a real Postfix on loopback, built as the
/// captures' server was (`scripts/postfix-sandbox`, smuggling-vulnerable, STARTTLS offered), then
/// to Postfixes that behave differently.
@Suite("Resend to a live Postfix")
struct LiveResenderTests {
    static func resend(_ name: String, to postfix: PostfixSandbox, host: String = "127.0.0.1", timeout: Double = 10) throws -> [ResendResult] {
        let resender = LiveResender(host: host, port: postfix.port, replyTimeout: timeout, closeGrace: 2)
        return try ConversationReader(path: Corpus.path(name)).conversations().map(resender.resend)
    }

    static func describe(_ results: [ResendResult]) -> String {
        results.map { ResendReportRenderer().table($0) }.joined()
    }

    /// Every capture whose server was this Postfix gets the same reply codes again (texts differ:
    /// queue ids). swaks-starttls stops after its 220 to STARTTLS.
    @Test(arguments: [
        "captures/swaks-plain.pcap", "captures/swaks-pipelining.pcap", "captures/smtplib-bdat.pcap", "captures/several-sessions.pcap",
        "captures/swaks-starttls.pcap",
    ])
    func sameCodesFromTheSameServer(capture: String) throws {
        let postfix = try PostfixSandbox.plain.get()
        let results = try Self.resend(capture, to: postfix)
        #expect(!results.isEmpty)
        for result in results {
            #expect(result.matches, "\(Self.describe([result]))\n\(postfix.log().suffix(1500))")
            #expect(result.differences.isEmpty)
            #expect(result.capturedReplies == result.receivedReplies)
            #expect(result.sameCodes == result.capturedReplies)
            #expect(result.stepsSent == result.steps)
            #expect(result.connectedTo == postfix.address)
        }
    }

    @Test func plainMessageGivesZeroDifferences() throws {
        let results = try Self.resend("captures/swaks-plain.pcap", to: try PostfixSandbox.plain.get())
        #expect(results.count == 1)
        #expect(results.first?.matches == true)
        #expect(results.first?.sameCodes == 7)
        #expect(results.first?.notes.isEmpty == true)
    }

    @Test func startTLSStopsAndSaysSo() throws {
        let result = try #require(try Self.resend("captures/swaks-starttls.pcap", to: try PostfixSandbox.plain.get()).first)
        #expect(result.matches)
        #expect(result.notes.map(\.kind) == [.startTLS])
        #expect(result.sameCodes == 3)
        #expect(ResendReportRenderer().table(result).contains("the rest of the session is TLS and was not resent"))
    }

    /// The smuggling session was captured against this vulnerable Postfix: re-sent to it, the
    /// server falls for it again — its five replies to the one "message" come back (codes
    /// 250 250 250 354 250), and a second message is queued.
    @Test func smugglingIsReproducedOnTheVulnerableServer() throws {
        let results = try Self.resend("captures/several-sessions.pcap", to: try PostfixSandbox.plain.get())
        let smuggling = try #require(results.first { $0.session == "several-sessions.pcap#2" })
        #expect(smuggling.matches, "\(Self.describe([smuggling]))")
        #expect(smuggling.receivedReplies == 11)
    }

    /// A Postfix with `smtpd_forbid_bare_newline = yes` (for every client) takes the smuggled
    /// commands as message text: it answers the end of data once, and the capture's four other
    /// replies never come (the step times out, reported as missing — not a hang).
    @Test func smugglingIsNotReproducedOnAFixedServer() throws {
        let postfix = try PostfixSandbox.fixed.get()
        let start = Date()
        let results = try Self.resend("captures/several-sessions.pcap", to: postfix, timeout: 2)
        #expect(Date().timeIntervalSince(start) < 15)
        let smuggling = try #require(results.first { $0.session == "several-sessions.pcap#2" })
        #expect(!smuggling.matches)
        #expect(smuggling.differences.map(\.kind) == [.missing, .missing, .missing, .missing], "\(Self.describe([smuggling]))")
        #expect(smuggling.differences.map(\.reason) == Array(repeating: "timeout", count: 4))
        #expect(smuggling.differences.compactMap { $0.captured?.code } == [250, 250, 354, 250])
        #expect(smuggling.notes.map(\.kind) == [.timeout])
        // The other sessions have no bare <LF>: same codes.
        let others = results.filter { $0.session != smuggling.session }
        #expect(others.count == 3)
        #expect(others.allSatisfy { $0.matches }, "\(Self.describe(results))")
    }

    /// A Postfix that refuses every recipient: the differences are found, named and reported,
    /// and the run exits 1.
    @Test func refusedRecipientsAreReportedWithExitStatus1() throws {
        let postfix = try PostfixSandbox.refusing.get()
        let results = try Self.resend("captures/swaks-plain.pcap", to: postfix)
        let result = try #require(results.first)
        #expect(!result.matches)
        let rcpt = try #require(result.differences.first)
        #expect(rcpt.kind == .code)
        #expect(rcpt.capturedIndex == 3 && rcpt.receivedIndex == 3)
        #expect(rcpt.verb == "RCPT")
        #expect(rcpt.command == "RCPT TO:<bob@example.org>")
        #expect(rcpt.captured?.code == 250)
        #expect(rcpt.received?.code == 554)
        #expect(rcpt.received?.text.contains("Recipient address rejected") == true)
        // DATA is refused too, and what follows (the message, sent as commands) ends the session.
        #expect(result.differences.contains { $0.verb == "DATA" && $0.received?.code == 554 })
        #expect(result.notes.map(\.kind) == [.diverged], "\(Self.describe([result]))")

        let run = ResendRun(
            files: [Corpus.path("captures/swaks-plain.pcap"), Corpus.path("captures/several-sessions.pcap")],
            resender: LiveResender(host: "127.0.0.1", port: postfix.port, replyTimeout: 10), format: .json)
        var output = ""
        var report = ""
        let status = run.run(write: { output += $0 }, report: { report += $0 })
        #expect(status == 1)
        #expect(report.isEmpty)
        let lines = output.split(separator: "\n").map(String.init)
        let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.filter { $0["event"] as? String == "resend-start" }.count == 5)
        #expect(objects.filter { $0["event"] as? String == "resend-end" }.count == 5)
        #expect(objects.allSatisfy { $0["ts"] is String && $0["session"] is String })
        let diff = try #require(objects.first { $0["event"] as? String == "resend-diff" && $0["for"] as? String == "RCPT" })
        #expect(diff["kind"] as? String == "code")
        #expect(diff["captured_code"] as? Int == 250)
        #expect(diff["new_code"] as? Int == 554)
        #expect(diff["command"] as? String == "RCPT TO:<bob@example.org>")
        #expect(diff["captured_index"] as? Int == 3)
        // VRFY probes the recipient restrictions too: refused here, 252 in the capture.
        #expect(objects.contains { $0["for"] as? String == "VRFY" && $0["new_code"] as? Int == 554 })
        let ends = objects.filter { $0["event"] as? String == "resend-end" }
        #expect(ends.allSatisfy { $0["result"] as? String == "differ" })

        // The same as a table: a block per session and a line per file.
        var table = ""
        let tableStatus = ResendRun(files: run.files, resender: run.resender, format: .table).run(write: { table += $0 }, report: { _ in })
        #expect(tableStatus == 1)
        #expect(table.contains("RCPT TO:<bob@example.org>"))
        #expect(table.contains("250 2.1.5 Ok"))
        #expect(table.contains("554 5.7.1 <bob@example.org>: Recipient address rejected"))
        #expect(table.contains(
            "captures/several-sessions.pcap: 4 SMTP sessions resent to 127.0.0.1:\(postfix.port): 0 with the same reply codes, 4 with differences"))
    }

    /// AUTH credentials go to the server as captured, but no output shows them. (This Postfix has
    /// no SASL: the AUTH exchanges differ, which is what the report says.)
    @Test(arguments: [ReplayFormat.json, .table])
    func authSecretsAreNeverPrinted(format: ReplayFormat) throws {
        let postfix = try PostfixSandbox.plain.get()
        let run = ResendRun(
            files: [Corpus.path("captures/smtplib-auth.pcap")], resender: LiveResender(host: "127.0.0.1", port: postfix.port), format: format)
        var output = ""
        var report = ""
        let status = run.run(write: { output += $0 }, report: { report += $0 })
        #expect(status == 1)
        for secret in AuthSecrets.all + ["secret"] {
            #expect(!output.contains(secret), "\(secret) in the output")
            #expect(!report.contains(secret))
        }
        #expect(output.contains("AUTH PLAIN [redacted]"))
        #expect(output.contains("503"))  // 5.5.1 Error: authentication not enabled
    }

    /// Targets by IPv6 literal and by host name.
    @Test(arguments: ["::1", "localhost"])
    func ipv6AndHostNames(host: String) throws {
        let postfix = try PostfixSandbox.plain.get()
        let results = try Self.resend("captures/curl-ipv6.pcap", to: postfix, host: host)
        #expect(results.count == 1)
        #expect(results.first?.matches == true, "\(Self.describe(results))")
        #expect(results.first?.sameCodes == 7)
        if host == "::1" {
            #expect(results.first?.target == "[::1]:\(postfix.port)")
            #expect(results.first?.connectedTo == "[::1]:\(postfix.port)")
        }
    }
}
