import NIOCore
import SMTPCore
import Testing

/// The engine stops at a consulted command, holds it and everything pipelined behind it, and goes
/// on in order when the verdict comes (SPEC §10–§12 build on this).
@Suite struct ConsultResumeTests {
    static let greeting = "220 mx.example ESMTP\r\n"
    static let ehloReply = "250-mx.example\r\n250-PIPELINING\r\n250 CHUNKING\r\n"

    static func greeted(policy: any InspectionPolicy = NoRules(), stages: Set<ConsultStage> = []) -> EngineHarness {
        var h = EngineHarness(policy: policy, consultStages: stages)
        h.server(greeting)
        h.client("EHLO client.example\r\n")
        h.server(ehloReply)
        _ = h.takeToServer()
        _ = h.takeToClient()
        return h
    }

    @Test func aHeldRCPTKeepsFiftyPipelinedCommandsInOrderUntilItsVerdict() throws {
        var h = Self.greeted(policy: ConsultingPolicy(consultOn: ["grey": .rcpt]))
        var pipelined = "MAIL FROM:<a@example.org>\r\nRCPT TO:<grey@example.net>\r\n"
        for index in 1...49 { pipelined += "RCPT TO:<r\(index)@example.net>\r\n" }
        pipelined += "NOOP\r\n"
        h.client(pipelined)
        // Only MAIL went upstream; the RCPT waits with the 50 commands behind it.
        #expect(h.takeToServer() == "MAIL FROM:<a@example.org>\r\n")
        #expect(h.consults.count == 1)
        let request = try #require(h.consults.first?.request)
        #expect(request.stage == .rcpt && request.path == "grey@example.net" && request.policyRules == ["grey"])
        // MAIL's reply has not come yet; the sender is the one forwarded.
        #expect(request.facts.sender == "a@example.org" && request.facts.transaction == 1)
        #expect(!h.readsPaused)  // a few KiB wait: reading goes on

        h.server("250 2.1.0 Ok\r\n")
        #expect(h.takeToClient() == "250 2.1.0 Ok\r\n")
        // Two seconds later the policy service defers the greylisted recipient.
        h.time = h.time.adding(seconds: 2)
        h.decide(Verdict(.reply(SMTPReply(code: 450, "4.7.1 Greylisted")), rule: "grey", policyAnswer: "DEFER_IF_PERMIT Greylisted"))
        var expected = ""
        for index in 1...49 { expected += "RCPT TO:<r\(index)@example.net>\r\n" }
        #expect(h.takeToServer() == expected + "NOOP\r\n")
        #expect(h.takeToClient() == "450 4.7.1 Greylisted\r\n")
        for _ in 1...49 { h.server("250 2.1.5 Ok\r\n") }
        h.server("250 2.0.0 Ok\r\n")
        #expect(h.takeToClient() == String(repeating: "250 2.1.5 Ok\r\n", count: 49) + "250 2.0.0 Ok\r\n")
        // Every reply event answers its command, in command order.
        let verbs = h.replyEvents.suffix(51).map { $0.forVerb ?? "" }
        #expect(verbs == ["RCPT"] + Array(repeating: "RCPT", count: 49) + ["NOOP"])
        let held = try #require(h.commandEvents.first { $0.arg.contains("grey") })
        #expect(held.action == "reject" && held.rule == "grey" && held.policy == "DEFER_IF_PERMIT Greylisted")
        #expect(h.commandEvents.filter { $0.policy != nil }.count == 1)
    }

    @Test func whatWaitsBehindAVerdictIsBounded() {
        var h = Self.greeted(stages: [.mail])
        h.client("MAIL FROM:<a@example.org>\r\n")
        #expect(h.consults.count == 1 && !h.readsPaused)
        let line = "RCPT TO:<" + String(repeating: "x", count: 900) + "@example.net>\r\n"
        h.client(String(repeating: line, count: 80))  // 73 KiB behind the held MAIL
        #expect(h.readsPaused)
        #expect(h.takeToServer().isEmpty)
        h.decide()
        #expect(!h.readsPaused)
        #expect(h.takeToServer().hasPrefix("MAIL FROM:<a@example.org>\r\nRCPT TO:<"))
    }

    @Test func proceedKeepsTheRuleSetsDecisionAndNamesThePolicyRule() throws {
        var h = Self.greeted(policy: ConsultingPolicy(consultOn: ["check": .mail]))
        h.client("MAIL FROM:<check@example.org>\r\n")
        h.decide(Verdict(.proceed, rule: "check", policyAnswer: "DUNNO"))
        #expect(h.takeToServer() == "MAIL FROM:<check@example.org>\r\n")
        let record = try #require(h.commandEvents.last)
        #expect(record.action == "forward" && record.rule == "check" && record.policy == "DUNNO")
    }

    @Test func prependedHeadersOpenTheMessageContent() {
        var h = Self.greeted(stages: [.rcpt])
        h.client("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
        h.decide(Verdict(.proceed, prependHeaders: ["X-Greylist: delayed 5 seconds\r\nBcc: injected"]))
        h.server("250 Ok\r\n250 Ok\r\n354 go\r\n")
        h.client("Subject: hi\r\n\r\nbody\r\n.\r\n")
        // A CR or LF inside a verdict's line cannot start a header of its own.
        #expect(h.takeToServer() == "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n"
            + "X-Greylist: delayed 5 seconds  Bcc: injected\r\nSubject: hi\r\n\r\nbody\r\n.\r\n")
    }

    @Test func aPrependedHeaderGrowsTheFirstBDATChunk() throws {
        var h = Self.greeted(stages: [.rcpt])
        h.client("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n")
        h.decide(Verdict(.proceed, prependHeaders: ["X-Policy: yes"]))
        h.client("BDAT 7 LAST\r\nHi!\r\n\r\n")
        let sent = h.takeToServer()
        #expect(sent.hasSuffix("BDAT 22 LAST\r\nX-Policy: yes\r\nHi!\r\n\r\n"))
        #expect(h.commandEvents.last?.forwarded == "BDAT 22 LAST")
    }

    @Test func theConnectVerdictComesBeforeTheUpstreamIsContacted() {
        var refused = EngineHarness(consultStages: [.connect])
        #expect(refused.upstreamConnects == 0 && refused.consults.first?.request.stage == .connect)
        refused.decide(Verdict(.reply(SMTPReply(code: 421, "4.7.0 Too many sessions")), events: [
            .limit(LimitRecord(rule: "sessions-per-address", key: "192.0.2.10", count: 11, action: "reject"))
        ], endReason: "client-limit"))
        #expect(refused.upstreamConnects == 0)
        #expect(refused.takeToClient() == "421 4.7.0 Too many sessions\r\n")
        #expect(refused.closeClient && refused.closeServer)
        refused.finish()
        #expect(refused.events.map(\.name) == ["session-start", "limit", "reply", "session-end"])
        if case .sessionEnd(let summary) = refused.events.last?.kind { #expect(summary.reason == "client-limit") }

        var admitted = EngineHarness(consultStages: [.connect])
        admitted.decide()
        #expect(admitted.upstreamConnects == 1)
        #expect(EngineHarness().upstreamConnects == 1)
    }

    @Test func aTarpitDelaysTheCommandThenHandlesIt() throws {
        var h = Self.greeted(stages: [.rcpt])
        h.client("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n")
        let start = h.time
        h.decide(Verdict(.delay(.seconds(5)), rule: "harvest"))
        #expect(h.takeToServer() == "MAIL FROM:<a@example.org>\r\n")
        let wake = try #require(h.resumes.first)
        #expect(wake.deadline == start.adding(seconds: 5))
        h.time = wake.deadline
        h.decide(wake.id, .proceed)
        #expect(h.takeToServer() == "RCPT TO:<b@example.net>\r\n")
        #expect(h.commandEvents.last?.rule == "harvest")
    }

    @Test func theEndOfDataWaitsForTheMessageVerdict() throws {
        var h = Self.greeted(policy: ConsultingPolicy(consultOn: [:], endOfMessage: ["eom-check"]))
        h.client("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
        h.server("250 Ok\r\n250 Ok\r\n354 go\r\n")
        _ = h.takeToServer()
        h.client("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        #expect(h.takeToServer() == "Subject: x\r\n\r\nbody\r\n")  // no end of data, no QUIT yet
        let request = try #require(h.consults.first?.request)
        #expect(request.stage == .endOfMessage && request.policyRules == ["eom-check"] && request.facts.size == 20)
        h.decide(Verdict(.reply(SMTPReply(code: 554, "5.7.1 Rejected by policy"))))
        // The upstream, which has no end of data, is closed: it delivers nothing.
        #expect(h.closeServer)
        #expect(h.takeToClient().hasSuffix("554 5.7.1 Rejected by policy\r\n221 2.0.0 Bye\r\n"))
        #expect(h.messageEvents.last?.result == 554)

        var accepted = Self.greeted(policy: ConsultingPolicy(consultOn: [:], endOfMessage: ["eom-check"]))
        accepted.client("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
        accepted.server("250 Ok\r\n250 Ok\r\n354 go\r\n")
        _ = accepted.takeToServer()
        accepted.client("body\r\n.\r\nQUIT\r\n")
        accepted.decide()
        #expect(accepted.takeToServer() == "body\r\n.\r\nQUIT\r\n")
        accepted.server("250 queued\r\n221 Bye\r\n")
        #expect(accepted.messageEvents.last?.result == 250)
    }

    @Test func aClientThatClosesWhileAVerdictIsOutstandingStillHasItsCommandsHandled() {
        var h = Self.greeted(stages: [.rcpt])
        h.client("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nQUIT\r\n")
        h.run(.clientClose)
        #expect(!h.shutdownServerOutput)
        h.decide()
        #expect(h.takeToServer() == "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nQUIT\r\n")
        #expect(h.shutdownServerOutput)
    }

    @Test func aVerdictForAnOldQuestionIsIgnored() {
        var h = Self.greeted(stages: [.mail])
        h.client("MAIL FROM:<a@example.org>\r\n")
        let id = h.consults[0].id
        h.run(.serverClose)  // the session ends while the question is open
        let events = h.events.count
        h.decide(id, Verdict(.reply(SMTPReply(code: 550, "5.7.1 no"))))
        #expect(h.events.count == events)
        #expect(h.takeToServer().isEmpty)
    }
}
