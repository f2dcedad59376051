import Foundation
import SMTPCore
import SMTPReplay
import Testing

/// The resend against servers that misbehave on purpose: silence, extra replies, early close,
/// nobody listening, and unreadable input.
@Suite("Resend failure cases")
struct FakeServerResendTests {
    static func swaksPlain() throws -> CapturedConversation {
        try #require(try ConversationReader(path: Corpus.path("captures/swaks-plain.pcap")).conversations().first)
    }

    /// A server that goes silent after the greeting costs one timeout per step, reported as
    /// missing replies and a `timeout` note; never a hang.
    @Test func silenceIsATimeoutNotAHang() throws {
        let server = try FakeSMTPServer { _ in .silence }
        defer { server.stop() }
        let start = Date()
        let result = LiveResender(host: "127.0.0.1", port: server.port, replyTimeout: 0.5, closeGrace: 0.2).resend(try Self.swaksPlain())
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed < 6, "took \(elapsed) s")
        #expect(!result.matches)
        #expect(result.sameCodes == 1)  // the greeting
        #expect(result.count(.missing) == 6)
        #expect(result.differences.allSatisfy { $0.reason == "timeout" })
        #expect(result.notes.filter { $0.kind == .timeout }.count == 6)
        #expect(result.notes.first?.detail == "waited 0.5 s for 1 reply, got 0")
    }

    /// Replies the capture does not have are `extra`; a different code is a `code` difference.
    @Test func extraRepliesAndOtherCodes() throws {
        let server = try FakeSMTPServer { line in
            if line.hasPrefix("EHLO") { return .reply(["250 fake.test", "250 again"]) }
            if line.hasPrefix("MAIL") { return .reply(["451 4.3.0 try later"]) }
            if line.hasPrefix("QUIT") { return .close }
            if line.hasPrefix("DATA") { return .reply(["354 go on"]) }
            if line == "." { return .reply(["250 queued"]) }
            if line.hasPrefix("RCPT") { return .reply(["250 ok"]) }
            return .reply([])
        }
        defer { server.stop() }
        let result = LiveResender(host: "127.0.0.1", port: server.port, replyTimeout: 2, closeGrace: 0.5).resend(try Self.swaksPlain())
        #expect(!result.matches)
        let extra = try #require(result.differences.first { $0.kind == .extra })
        #expect(extra.step == 1)
        #expect(extra.received == ResendReply(code: 250, text: "again"))
        #expect(extra.capturedIndex == nil && extra.receivedIndex == 2)
        let mail = try #require(result.differences.first { $0.kind == .code })
        #expect(mail.command == "MAIL FROM:<alice@example.net>")
        #expect(mail.captured?.code == 250 && mail.received?.code == 451)
        // QUIT: the server closed without a 221.
        let quit = try #require(result.differences.last)
        #expect(quit.kind == .missing && quit.verb == "QUIT" && quit.reason == "closed")
        let table = ResendReportRenderer().table(result)
        #expect(table.contains("(extra reply)"))
        #expect(table.contains("(missing: closed)"))
    }

    /// A server that hangs up early: the later steps are not sent, and the report says how many
    /// captured replies that leaves unchecked.
    @Test func earlyCloseLeavesTheRestUnsent() throws {
        let server = try FakeSMTPServer { line in line.hasPrefix("EHLO") ? .reply(["250 fake.test"]) : .close }
        defer { server.stop() }
        let result = LiveResender(host: "127.0.0.1", port: server.port, replyTimeout: 2).resend(try Self.swaksPlain())
        #expect(!result.matches)
        #expect(result.differences.map(\.kind) == [.missing])
        #expect(result.differences.first?.verb == "MAIL")
        #expect(result.notResent == 4)
        #expect(result.stepsSent == 3)
        #expect(result.notes.map(\.kind) == [.closed])
    }

    @Test func nobodyListeningIsARuntimeFailure() throws {
        let port = freeLoopbackPort()
        let result = LiveResender(host: "127.0.0.1", port: port, connectTimeout: 2).resend(try Self.swaksPlain())
        #expect(!result.matches)
        #expect(result.notes.first?.kind == .connectFailed)
        #expect(result.notes.first?.detail.contains("Connection refused") == true)
        #expect(result.connectedTo == nil)
        var output = ""
        let run = ResendRun(
            files: [Corpus.path("captures/swaks-plain.pcap")], resender: LiveResender(host: "127.0.0.1", port: port), format: .json)
        let status = run.run(write: { output += $0 }, report: { _ in })
        #expect(status == 1)
        #expect(output.contains(#""event":"resend-note","kind":"connect-failed""#))
    }

    @Test func unknownHostIsReported() throws {
        let result = LiveResender(host: "no-such-host.invalid", port: 25).resend(try Self.swaksPlain())
        #expect(result.notes.first?.kind == .connectFailed)
        #expect(result.notes.first?.detail.hasPrefix("cannot resolve no-such-host.invalid") == true)
    }

    /// Bad input stays exit 2, also with --to; the sessions of the good files are still re-sent.
    @Test func unreadableCaptureIsExit2() throws {
        let server = try FakeSMTPServer { _ in .close }
        defer { server.stop() }
        var output = ""
        var report = ""
        let run = ResendRun(
            files: ["/nonexistent/file.pcap", Corpus.path("captures/swaks-plain.pcap")],
            resender: LiveResender(host: "127.0.0.1", port: server.port, replyTimeout: 1), format: .table)
        let status = run.run(write: { output += $0 }, report: { report += $0 })
        #expect(status == 2)
        #expect(report.hasPrefix("smtp-inspect: "))
        #expect(report.contains("/nonexistent/file.pcap"))
        #expect(output.contains("swaks-plain.pcap#0"))
    }

    /// The JSON report of a session that matches: a start and an end line, nothing else.
    @Test func matchingSessionInJSON() throws {
        let server = try FakeSMTPServer { line in
            switch line.prefix(4) {
            case "EHLO": .reply(["250-fake.test", "250 PIPELINING"])
            case "MAIL", "RCPT": .reply(["250 ok"])
            case "DATA": .reply(["354 go on"])
            case "QUIT": .reply(["221 bye"])
            default: line == "." ? .reply(["250 queued"]) : .reply([])
            }
        }
        defer { server.stop() }
        let result = LiveResender(host: "127.0.0.1", port: server.port, replyTimeout: 2, closeGrace: 0.5).resend(try Self.swaksPlain())
        #expect(result.matches, "\(ResendReportRenderer().table(result))")
        let lines = ResendReportRenderer().jsonLines(result).split(separator: "\n")
        #expect(lines.count == 2)
        let end = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(end["event"] as? String == "resend-end")
        #expect(end["result"] as? String == "match")
        #expect(end["same_codes"] as? Int == 7)
        #expect(end["new_replies"] as? Int == 7)
        #expect(end["session"] as? String == "swaks-plain.pcap#0")
    }
}
