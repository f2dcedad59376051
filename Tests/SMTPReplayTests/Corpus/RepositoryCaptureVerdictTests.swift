import Foundation
import SMTPCore
import SMTPFilters
import SMTPReplay
import Testing

/// Every capture in the repository's `captures/`, replayed through the shipped `filters/`, gives
/// the verdicts captures/README.md documents (its "expected verdicts" column).
@Suite("captures/ through the shipped filters")
struct RepositoryCaptureVerdictTests {
    static let loadedRules = Result { () throws(FilterError.List) -> RuleSet in try RuleSet.load(paths: [Corpus.repository + "/filters"]) }

    /// The events of one capture with the shipped filters, by session.
    static func sessions(_ name: String) throws -> [String: [AuditEvent]] {
        let events = try CaptureReplay(path: Corpus.path(name), options: ReplayOptions(policy: loadedRules.get())).events()
        return Dictionary(grouping: events, by: \.session)
    }

    static func commands(_ events: [AuditEvent]) -> [CommandRecord] {
        events.compactMap { if case .command(let record) = $0.kind { record } else { nil } }
    }

    static func replies(_ events: [AuditEvent]) -> [ReplyRecord] {
        events.compactMap { if case .reply(let record) = $0.kind { record } else { nil } }
    }

    static func messages(_ events: [AuditEvent]) -> [MessageRecord] {
        events.compactMap { if case .message(let record) = $0.kind { record } else { nil } }
    }

    static func anomalies(_ events: [AuditEvent]) -> [String] {
        events.compactMap { if case .anomaly(let kind, _) = $0.kind { kind.rawValue } else { nil } }
    }

    static func end(_ events: [AuditEvent]) -> SessionSummary? {
        events.compactMap { if case .sessionEnd(let summary) = $0.kind { summary } else { nil } }.last
    }

    /// Every command forwarded without a rule, no proxy-made reply, no anomaly.
    static func expectUntouched(_ events: [AuditEvent], _ comment: Comment) {
        #expect(commands(events).allSatisfy { $0.action == "forward" && $0.rule == nil }, comment)
        #expect(replies(events).allSatisfy { !$0.local }, comment)
        #expect(anomalies(events).isEmpty, comment)
    }

    @Test func everyCaptureIsCovered() {
        // A new file in captures/ needs its verdicts here too.
        #expect(Corpus.repositoryCaptures == [
            "captures/curl-ipv6.pcap", "captures/several-sessions.pcap", "captures/smtplib-auth.pcap", "captures/smtplib-bdat.pcap",
            "captures/swaks-pipelining.pcap", "captures/swaks-plain.pcap", "captures/swaks-starttls.pcap",
        ])
    }

    /// swaks-plain: all forwarded; `message` with subject.
    @Test func swaksPlain() throws {
        let sessions = try Self.sessions("captures/swaks-plain.pcap")
        let events = try #require(sessions["swaks-plain.pcap#0"])
        #expect(sessions.count == 1)
        Self.expectUntouched(events, "swaks-plain")
        #expect(Self.commands(events).map(\.verb) == ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"])
        let message = try #require(Self.messages(events).first)
        #expect(message.subject == "plain message from swaks")
        #expect(message.mailFrom == "alice@example.net" && message.rcptTo == ["bob@example.org"] && message.result == 250)
        #expect(Self.end(events)?.reason == "quit")
    }

    /// swaks-pipelining: MAIL, two RCPT and DATA in one segment; replies paired in order.
    @Test func swaksPipelining() throws {
        let events = try #require(try Self.sessions("captures/swaks-pipelining.pcap")["swaks-pipelining.pcap#0"])
        Self.expectUntouched(events, "swaks-pipelining")
        #expect(Self.replies(events).map { "\($0.forVerb ?? "-") \($0.code)" } == [
            "greeting 220", "EHLO 250", "MAIL 250", "RCPT 250", "RCPT 250", "DATA 354", ". 250", "QUIT 221",
        ])
        let message = try #require(Self.messages(events).first)
        #expect(message.rcptTo == ["bob@example.org", "carol@example.org"])
        #expect(message.subject == "pipelined")
    }

    /// swaks-starttls: relayed blind after the 220: `tls: passthrough`.
    @Test func swaksStartTLS() throws {
        let events = try #require(try Self.sessions("captures/swaks-starttls.pcap")["swaks-starttls.pcap#0"])
        #expect(Self.commands(events).map(\.verb) == ["EHLO", "STARTTLS"])
        #expect(Self.replies(events).last.map { "\($0.forVerb ?? "-") \($0.code)" } == "STARTTLS 220")
        #expect(Self.end(events)?.tls == "passthrough")
        #expect(Self.anomalies(events).isEmpty)
    }

    /// curl-ipv6: a message over IPv6, all forwarded.
    @Test func curlIPv6() throws {
        let events = try #require(try Self.sessions("captures/curl-ipv6.pcap")["curl-ipv6.pcap#0"])
        Self.expectUntouched(events, "curl-ipv6")
        guard case .sessionStart(let client, let server, _) = events.first?.kind else {
            Issue.record("no session-start")
            return
        }
        #expect(client.host == "::1" && server.host == "::1")
        #expect(Self.messages(events).map(\.subject) == ["curl over IPv6"])
        #expect(Self.messages(events).first?.result == 250)
    }

    /// smtplib-bdat: two BDAT chunks, the second LAST; chunks counted, not parsed; one `message`
    /// of 55 + 43 octets, though the second chunk has a line starting with a dot.
    @Test func smtplibBDAT() throws {
        let events = try #require(try Self.sessions("captures/smtplib-bdat.pcap")["smtplib-bdat.pcap#0"])
        Self.expectUntouched(events, "smtplib-bdat")
        #expect(Self.commands(events).filter { $0.verb == "BDAT" }.map(\.arg) == ["55", "43 LAST"])
        let messages = Self.messages(events)
        #expect(messages.count == 1)
        #expect(messages.first?.size == 98)
        #expect(messages.first?.subject == "chunked with BDAT")
        #expect(messages.first?.result == 250)
    }

    /// smtplib-auth: secrets shown as `[redacted]` (in the JSON output too); `audit-auth` fires.
    @Test func smtplibAuth() throws {
        let sessions = try Self.sessions("captures/smtplib-auth.pcap")
        #expect(sessions.count == 2)
        let plain = try #require(sessions["smtplib-auth.pcap#0"])
        let login = try #require(sessions["smtplib-auth.pcap#1"])
        let plainAuth = try #require(Self.commands(plain).first { $0.verb == "AUTH" })
        #expect(plainAuth.arg == "PLAIN [redacted]")
        #expect(plainAuth.action == "forward" && plainAuth.rule == "audit-auth")
        #expect(Self.replies(plain).first { $0.forVerb == "AUTH" }?.code == 235)
        #expect(Self.messages(plain).map(\.subject) == ["after AUTH PLAIN"])
        let loginCommands = Self.commands(login)
        #expect(loginCommands.filter { $0.verb == "AUTH" }.map(\.rule) == ["audit-auth"])
        #expect(loginCommands.filter { $0.verb == "AUTH-RESPONSE" }.map(\.arg) == ["[redacted]", "[redacted]"])

        var output = ""
        var report = ""
        let run = try ReplayRun(
            files: [Corpus.path("captures/smtplib-auth.pcap")], options: ReplayOptions(policy: Self.loadedRules.get()), format: .json)
        let status = run.run(write: { output += $0 }, report: { report += $0 })
        #expect(status == 0)
        #expect(output.contains("[redacted]"))
        for secret in AuthSecrets.all {
            #expect(!output.contains(secret), "\(secret) in the JSON output")
            #expect(!report.contains(secret))
        }
        #expect(!output.contains("secret"))
    }

    /// several-sessions: VRFY/EXPN rejected (`no-vrfy-expn`), XEXCH50 rejected (stripped keyword);
    /// `smuggling-attempt`; the server's extra replies (it fell for the smuggling in the capture)
    /// show as `unsolicited-reply`; the first and last sessions are plain messages.
    @Test func severalSessions() throws {
        let sessions = try Self.sessions("captures/several-sessions.pcap")
        #expect(sessions.keys.sorted() == (0..<4).map { "several-sessions.pcap#\($0)" })

        let first = try #require(sessions["several-sessions.pcap#0"])
        Self.expectUntouched(first, "first")
        #expect(Self.messages(first).map(\.subject) == ["first"])
        let last = try #require(sessions["several-sessions.pcap#3"])
        Self.expectUntouched(last, "last")
        #expect(Self.messages(last).map(\.subject) == ["last"])

        let scanner = try #require(sessions["several-sessions.pcap#1"])
        let verdicts = Self.commands(scanner).map { "\($0.verb) \($0.action) \($0.rule ?? "-")" }
        #expect(verdicts == [
            "EHLO forward -", "VRFY reject no-vrfy-expn", "EXPN reject no-vrfy-expn", "XEXCH50 reject exchange-hide-keywords", "QUIT forward -",
        ])
        #expect(Self.anomalies(scanner) == ["stripped-keyword-used"])
        // The refusals are the proxy's own (502); the captured server's answers to them were never
        // forwarded to anyone.
        #expect(Self.replies(scanner).filter(\.local).map(\.code) == [502, 502, 502])
        #expect(Self.replies(scanner).filter(\.local).map(\.forVerb) == ["VRFY", "EXPN", "XEXCH50"])

        let attacker = try #require(sessions["several-sessions.pcap#2"])
        let anomalies = Self.anomalies(attacker)
        #expect(anomalies.contains("smuggling-attempt"))
        #expect(anomalies.filter { $0 == "unsolicited-reply" }.count == 4)
        #expect(Self.replies(attacker).filter { $0.forVerb == nil }.map(\.code) == [250, 250, 354, 250])
        #expect(Self.commands(attacker).allSatisfy { $0.action == "forward" })
        // The smuggled commands stay inside the one message the proxy forwarded (dot-stuffed).
        #expect(Self.messages(attacker).map(\.subject) == ["innocent"])
        #expect(!Self.commands(attacker).contains { $0.arg.contains("ceo@example.org") })
    }
}
