import Foundation
import Testing

/// One smuggling sequence of THREATS.md: bytes in a DATA body that some receiver reads as an end
/// of data although `CRLF.CRLF` is the only one.
struct SmugglingSequence: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    /// Whether Postfix 3.7.11 with `smtpd_forbid_bare_newline = no` ends the message there
    /// (measured, see `postfixAloneIsVulnerable`).
    var splitsPostfix: Bool

    var testDescription: String { name }

    init(_ name: String, _ text: String, splitsPostfix: Bool) {
        self.name = name
        bytes = Array(text.utf8)
        self.splitsPostfix = splitsPostfix
    }

    /// smtpsmug's list, SEC Consult's inbound and outbound lists, and Postfix 3.9's `CRLF.CRCRLF`.
    ///
    /// Found with this Postfix (3.7.11, `smtpd_forbid_bare_newline = no`): it reads lines up to a
    /// LF and strips every CR before it, so it ends the message at a `.` line that starts after a
    /// LF (bare or not) and ends with LF, CRLF or CR…CRLF: `\n.\n`, `\n.\r\n`, `\r\n.\n`,
    /// `\r\n.\r\r\n`, `\r\r\n.\r\r\n`. A bare CR never ends a line for it, and `\0.` is not `.`,
    /// so it does not split on the others — a proxy must still neutralise them, because other
    /// receivers (Cisco "Clean", Exchange, older Sendmail) do.
    static let all: [SmugglingSequence] = [
        SmugglingSequence("LF.LF", "\n.\n", splitsPostfix: true),
        SmugglingSequence("LF.CRLF", "\n.\r\n", splitsPostfix: true),
        SmugglingSequence("LF.CR", "\n.\r", splitsPostfix: false),
        SmugglingSequence("CR.LF", "\r.\n", splitsPostfix: false),
        SmugglingSequence("CR.CR", "\r.\r", splitsPostfix: false),
        SmugglingSequence("CR.CRLF", "\r.\r\n", splitsPostfix: false),
        SmugglingSequence("CRLF.LF", "\r\n.\n", splitsPostfix: true),
        SmugglingSequence("CRLF.CR", "\r\n.\r", splitsPostfix: false),
        SmugglingSequence("CRLF NUL.CRLF", "\r\n\u{0}.\r\n", splitsPostfix: false),
        SmugglingSequence("CRLF.CRCRLF", "\r\n.\r\r\n", splitsPostfix: true),
        SmugglingSequence("CRCRLF.CRCRLF", "\r\r\n.\r\r\n", splitsPostfix: true),
    ]

    static let vulnerable = all.filter(\.splitsPostfix)

    /// The DATA body: a message whose content holds the sequence and, after it, a complete second
    /// transaction (the smuggled one, with its own token) ending with `CRLF.CRLF` — the only real
    /// end of data, as the attacker's mail server would send it.
    func body(outer: String, inner: String) -> [UInt8] {
        Array(
            ("From: attacker@example.net\r\nTo: bob@example.org\r\nSubject: \(outer)\r\nMessage-ID: <\(outer)@example.net>\r\n"
                + "Date: Sun, 29 Nov 2026 09:00:00 +0000\r\n\r\nHello from \(outer)").utf8)
            + bytes
            + Array(
                ("MAIL FROM:<spoof@example.net>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n"
                    + "From: ceo@example.net\r\nTo: victim@example.org\r\nSubject: \(inner)\r\n\r\nSmuggled \(inner)\r\n.\r\n").utf8)
    }
}

/// SPEC §4 DATA / THREATS.md: SMTP smuggling against a Postfix that is vulnerable on purpose.
/// Through the proxy every sequence yields exactly one message — the smuggled transaction is mere
/// content — and an anomaly; straight into Postfix the same bytes deliver two messages.
@Suite(.serialized) struct SmugglingTests {
    let postfix: PostfixInstance

    init() throws {
        postfix = try DedicatedPostfix.instance("smuggling")
    }

    /// Opens a transaction and sends `body` after the 354; returns the client.
    /// `refusalMayCutIn`: the proxy may refuse and close while the body is still being sent
    /// (`bare-newline: reject`), so a failed send is expected then.
    private func sendSmuggling(port: Int, body: [UInt8], refusalMayCutIn: Bool = false) throws -> RawSMTPClient {
        let client = try RawSMTPClient(port: port)
        try client.open()
        try client.send("MAIL FROM:<attacker@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
        let replies = try client.readReplies(3)
        try #require(replies.map { $0.prefix(3) } == ["250", "250", "354"], "\(replies)")
        if refusalMayCutIn {
            try? client.send(body)
        } else {
            try client.send(body)
        }
        return client
    }

    @Test(arguments: SmugglingSequence.all)
    func theProxyDeliversOneMessageWithTheSmuggledTextAsContent(_ sequence: SmugglingSequence) async throws {
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port)
        defer { Task { await proxy.stop() } }
        let outer = uniqueToken("outer")
        let inner = uniqueToken("smuggled")
        let client = try sendSmuggling(port: proxy.port, body: sequence.body(outer: outer, inner: inner))
        try client.send("QUIT\r\n")
        let replies = try client.readReplies(2)
        #expect(replies[0].hasPrefix("250 "), "\(replies)")
        #expect(replies[1].hasPrefix("221 "), "one reply for one message, then QUIT's: \(replies)")
        #expect(try client.readToEnd() == "", "Postfix answered more than one message")

        // Postfix saw one transaction: the smuggled MAIL/RCPT/DATA were message content.
        let statistics = try #require(PostfixInstance.commandStatistics(postfix.waitForSessions(since: mark)).first)
        #expect(statistics["mail"] == "1" && statistics["rcpt"] == "1" && statistics["data"] == "1", "\(statistics)")
        let delivered = try #require(postfix.waitForMessage(containing: outer))
        #expect(delivered.contains(inner), "the smuggled text is content of the one message")
        #expect(delivered.contains("MAIL FROM:<spoof@example.net>"))
        #expect(postfix.messages(containing: inner).count == 1, "the smuggled token was delivered on its own")
        #expect(!delivered.hasPrefix("Return-Path: <spoof@example.net>"))

        proxy.waitForSessionEnds(1)
        let kinds = Set(proxy.anomalyKinds())
        #expect(!kinds.isDisjoint(with: ["smuggling-attempt", "bare-lf", "bare-cr", "nul"]), "no anomaly for \(sequence.name): \(kinds)")
        #expect(proxy.events("message").count == 1)
        #expect(proxy.events("reply").allSatisfy { $0["for"] as? String != nil }, "Postfix sent replies nobody asked for")
    }

    /// The control: without the proxy, this Postfix does deliver the smuggled message on its own.
    @Test(arguments: SmugglingSequence.all)
    func postfixAloneIsVulnerable(_ sequence: SmugglingSequence) async throws {
        let mark = postfix.quiescentMark()
        let outer = uniqueToken("direct-outer")
        let inner = uniqueToken("direct-smuggled")
        let client = try sendSmuggling(port: postfix.port, body: sequence.body(outer: outer, inner: inner))
        try client.send("QUIT\r\n")
        let replies = try client.readToEnd()
        let statistics = try #require(PostfixInstance.commandStatistics(postfix.waitForSessions(since: mark)).first)
        let outerMessage = try #require(postfix.waitForMessage(containing: outer))
        if sequence.splitsPostfix {
            // 250 (first message), 250 MAIL, 250 RCPT, 354 DATA, 250 (smuggled message), 221.
            #expect(replies.components(separatedBy: "\r\n").map { $0.prefix(3) } == ["250", "250", "250", "354", "250", "221", ""], "\(replies)")
            #expect(statistics["mail"] == "2" && statistics["data"] == "2", "\(statistics)")
            let smuggled = try #require(postfix.waitForMessage(containing: inner))
            #expect(smuggled.hasPrefix("Return-Path: <spoof@example.net>\n"), "a second, spoofed message")
            #expect(!smuggled.contains(outer))
            #expect(!outerMessage.contains(inner))
        } else {
            #expect(statistics["mail"] == "1" && statistics["data"] == "1", "Postfix 3.7 split on \(sequence.name): \(statistics)")
            #expect(outerMessage.contains(inner))
        }
    }

    /// `bare-newline: reject`: the first bare CR/LF/NUL gets 550 5.5.2, Postfix's transaction is
    /// cut off before any end of data, and nothing is delivered.
    @Test(arguments: SmugglingSequence.all)
    func rejectPolicyRefusesAndDeliversNothing(_ sequence: SmugglingSequence) async throws {
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: "settings:\n  bare-newline: reject\n")
        defer { Task { await proxy.stop() } }
        let outer = uniqueToken("reject-outer")
        let inner = uniqueToken("reject-smuggled")
        let client = try sendSmuggling(port: proxy.port, body: sequence.body(outer: outer, inner: inner), refusalMayCutIn: true)
        let reply = try #require(try client.readReply())
        #expect(reply.hasPrefix("550 5.5.2"), "\(reply)")
        #expect(try client.readToEnd() == "", "the session is closed after the refusal")

        let log = postfix.waitForSessions(since: mark)
        // The session that carried the transaction (not a stray connection without commands).
        let statistics = try #require(PostfixInstance.commandStatistics(log).first { $0["mail"] != nil }, "\(log)")
        #expect(statistics["mail"] == "1" && statistics["data"] == "0/1", "Postfix accepted a message: \(statistics)")
        #expect(log.contains("lost connection after DATA"), "\(log)")
        let events = proxy.waitForSessionEnds(1)
        let end = try #require(events.first { $0["event"] as? String == "session-end" })
        #expect(end["reason"] as? String == "bare-newline-rejected")
        #expect(!Set(proxy.anomalyKinds()).isDisjoint(with: ["smuggling-attempt", "bare-lf", "bare-cr", "nul"]))

        // Nothing was queued; a later message through the same Postfix arrives, these never do.
        let control = uniqueToken("reject-control")
        let direct = try RawSMTPClient(port: postfix.port)
        try direct.open()
        try direct.send("MAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
        _ = try direct.readReplies(3)
        try direct.send(testMessage(token: control) + ".\r\nQUIT\r\n")
        _ = try direct.readReplies(2)
        #expect(postfix.waitForMessage(containing: control) != nil)
        #expect(postfix.messages(containing: outer).isEmpty && postfix.messages(containing: inner).isEmpty)
        postfix.waitForSessions(since: mark, count: 2)
    }
}
