import Foundation
import NIOCore
import NIOPosix
import SMTPCore
import SMTPFilters
import SMTPServices
import Testing

/// What the client sends (macros, steps left out, body chunks) and how it applies what a milter
/// asks, checked against a scripted milter that records every packet.
@Suite struct MilterProtocolTests {
    static func withFake<T>(
        steps: UInt32 = 0, endOfMessage: [(Character, [UInt8])] = [], final: Character = "a", finalPayload: [UInt8] = [], answers: [Character: Character] = [:],
        _ body: (FakeMilter, MilterSessionDriver) async throws -> T
    ) async throws -> T {
        let group = MultiThreadedEventLoopGroup.singleton  // never shut down: a milter task may finish after a test
        let fake = try await FakeMilter(group: group, steps: steps, endOfMessage: endOfMessage, final: final, finalPayload: finalPayload, answers: answers)
        let consultant = MilterConsultant(
            milters: [MilterSettings(name: "fake", socket: .inet(host: "127.0.0.1", port: fake.port), timeout: .seconds(10))],
            hostname: "mx.example.test")
        let driver = MilterSessionDriver(consultant, eventLoop: group.next())
        let result = try await body(fake, driver)
        await driver.end()
        await fake.stop()
        return result
    }

    @Test func theSessionReachesTheMilterAsPostfixSendsIt() async throws {
        let body = (0..<20_000).map { "line \($0) of a body long enough for several chunks" }
        let message = RealMilterTests.message(subject: "chunks", body: body)
        let packets = try await Self.withFake { fake, driver in
            let run = try await driver.run(message: message, recipients: ["bob@example.org", "carol@example.org"])
            #expect(run.refusal == nil)
            return fake.packets
        }
        let commands = String(packets.map(\.command).filter { $0 != "B" })
        #expect(commands.hasPrefix("ODCHDMDRDRDTLLLLLN"), "\(commands)")
        #expect(commands.hasSuffix("DE"))
        let connectMacros = packets[1].strings
        #expect(packets[1].payload.first == UInt8(ascii: "C"))
        let macros = Dictionary(uniqueKeysWithValues: stride(from: 0, to: connectMacros.count - 1, by: 2).map {
            (String(connectMacros[$0].drop { $0 == "C" }), connectMacros[$0 + 1])
        })
        #expect(macros["j"] == "mx.example.test")
        #expect(macros["{client_addr}"] == "127.0.0.1")
        #expect(macros["{client_name}"] == "unknown")
        #expect(macros["i"]?.isEmpty == false)
        let mail = try #require(packets.first { $0.command == "M" })
        #expect(mail.strings == ["<alice@example.test>", "SIZE=\(message.count)"])
        #expect(packets.filter { $0.command == "R" }.map(\.strings) == [["<bob@example.org>"], ["<carol@example.org>"]])
        let subject = try #require(packets.first { $0.command == "L" && $0.strings.first == "Subject" })
        #expect(subject.strings == ["Subject", "chunks"])
        // The body in chunks of at most 64 KiB, which together are the body, CRLF line ends.
        let chunks = packets.filter { $0.command == "B" }
        #expect(chunks.count > 10)
        #expect(chunks.allSatisfy { $0.payload.count <= 65_535 })
        let sent = chunks.flatMap(\.payload)
        #expect(String(decoding: sent, as: UTF8.self) == body.joined(separator: "\r\n") + "\r\n")
    }

    @Test func stepsTheMilterLeftOutAreNotSentButTheirMacrosAre() async throws {
        // NOHELO 0x2, NORCPT 0x8, NOHDRS 0x20, NR_MAIL 0x4000, NR_BODY 0x80000
        let packets = try await Self.withFake(steps: 0x2 | 0x8 | 0x20 | 0x4000 | 0x80000) { fake, driver in
            let run = try await driver.run(message: RealMilterTests.message(subject: "steps", body: ["b"]))
            #expect(run.refusal == nil)
            return fake.packets
        }
        let commands = String(packets.map(\.command))
        #expect(commands == "ODCDMDDTNBDE", "\(commands)")  // no H (no HELO macros), RCPT: its macros only
    }

    /// A session first asked at end of message (the engine stopped nowhere before): the milter
    /// still hears connect, the envelope and the message, in order.
    @Test func aMilterFirstAskedAtEndOfMessageHearsTheWholeSession() async throws {
        let packets = try await Self.withFake { fake, driver in
            let facts = SessionFacts(
                sessionID: "late", client: Endpoint(host: "192.0.2.7", port: 4000), server: Endpoint(host: "127.0.0.1", port: 25),
                sender: "alice@example.test", recipients: ["bob@example.org"], transaction: 1)
            let spool = driver.consultant.makeSpool()
            try spool.append(ByteBuffer(bytes: RealMilterTests.message(subject: "late", body: ["b"])))
            let outcome = try await driver.consultant.endOfMessage(spool, facts: facts, on: driver.eventLoop).get()
            #expect(outcome.verdict.action == .proceed)
            await driver.consultant.endSession("late").value
            return fake.packets
        }
        #expect(String(packets.map(\.command)).hasPrefix("ODCDMDRLLLLLNBDE"), "\(String(packets.map(\.command)))")
        #expect(packets.first { $0.command == "C" }?.strings.last?.hasSuffix("192.0.2.7") == true)  // family, port, address
    }

    /// `consult` at END-OF-MESSAGE proceeds only for a transaction whose message `endOfMessage`
    /// judged: a driver that forgot the held message gets a refusal, not an unexamined delivery.
    @Test func endOfMessageConsultProceedsOnlyForAnExaminedMessage() async throws {
        try await Self.withFake { _, driver in
            let facts = SessionFacts(
                sessionID: "eom", client: Endpoint(host: "127.0.0.1", port: 4000), server: Endpoint(host: "127.0.0.1", port: 25),
                sender: "a@example.test", recipients: ["b@example.org"], transaction: 1)
            let request = ConsultRequest(stage: .endOfMessage, facts: facts)
            let before = try await driver.consultant.consult(request, at: SMTPTimestamp(seconds: 0), on: driver.eventLoop).get()
            #expect(before.action == .reply(SMTPReply(code: 451, "4.3.0 Error: message not examined")))
            #expect(before.events.count == 1)
            let spool = driver.consultant.makeSpool()
            try spool.append(ByteBuffer(bytes: RealMilterTests.message(subject: "eom", body: ["b"])))
            _ = try await driver.consultant.endOfMessage(spool, facts: facts, on: driver.eventLoop).get()
            let after = try await driver.consultant.consult(request, at: SMTPTimestamp(seconds: 0), on: driver.eventLoop).get()
            #expect(after.action == .proceed && after.events.isEmpty)
            var next = request
            next.facts.transaction = 2
            let nextTransaction = try await driver.consultant.consult(next, at: SMTPTimestamp(seconds: 0), on: driver.eventLoop).get()
            #expect(nextTransaction.action != .proceed)
            await driver.consultant.endSession("eom").value
        }
    }

    @Test func aMilterRejectingARecipientRefusesOnlyThatRecipient() async throws {
        try await Self.withFake(answers: ["R": "t"]) { _, driver in
            let run = try await driver.run(message: RealMilterTests.message(subject: "r", body: ["b"]), recipients: ["a@example.org"])
            let refusal = try #require(run.refusal)
            #expect(refusal.stage == .rcpt)
            #expect(refusal.verdict.action == .reply(SMTPReply(code: 451, "4.7.1 Service unavailable - try again later")))
            #expect(run.milterRecords.last?.verdict == "tempfail")
            #expect(run.outcome == nil)
        }
    }

    @Test func aReplyCodeAnswersWithTheMiltersMultiLineReply() async throws {
        try await Self.withFake(final: "y", finalPayload: FakeMilter.strings("550-5.7.1 first line\r\n550 5.7.1 100%% sure")) { _, driver in
            let run = try await driver.run(message: RealMilterTests.message(subject: "y", body: ["b"]))
            let refusal = try #require(run.refusal)
            #expect(refusal.verdict.action == .reply(SMTPReply(code: 550, lines: ["5.7.1 first line", "5.7.1 100% sure"])))
        }
    }

    @Test func discardAnswers250AndDropsTheMessage() async throws {
        try await Self.withFake(final: "d") { _, driver in
            let run = try await driver.run(message: RealMilterTests.message(subject: "d", body: ["b"]))
            #expect(run.outcome?.discarded == true)
            #expect(run.outcome?.verdict.action == .reply(SMTPReply(code: 250, "2.0.0 Ok: message discarded")))
            #expect(try run.forwarded() == nil)
        }
    }

    @Test func everyModificationIsAppliedAsMiltersAddressThem() async throws {
        let message = crlfMessage([
            "Received: from a", "Received: from b", "Subject: old", "To: bob@example.org", "X-Drop: me", "", "old body", ".dot line",
        ])
        let modifications: [(Character, [UInt8])] = [
            ("i", FakeMilter.integer(0) + FakeMilter.strings("X-Top", "first")),
            ("m", FakeMilter.integer(2) + FakeMilter.strings("received", "from B (changed)")),
            ("m", FakeMilter.integer(1) + FakeMilter.strings("X-Drop", "")),
            ("m", FakeMilter.integer(1) + FakeMilter.strings("X-Missing", "appended")),
            ("h", FakeMilter.strings("X-Folded", "one\n\ttwo")),
            ("b", Array("new body\nsecond".utf8)), ("b", Array(" line\r\n.dot\r\n".utf8)),
            ("e", FakeMilter.strings("<new@example.test>", "BODY=8BITMIME")),
            ("+", FakeMilter.strings("<carol@example.org>")), ("-", FakeMilter.strings("<bob@example.org>")),
            ("q", FakeMilter.strings("looks odd")),
        ]
        try await Self.withFake(endOfMessage: modifications) { _, driver in
            let run = try await driver.run(message: message)
            let outcome = try #require(run.outcome)
            #expect(outcome.verdict.action == .proceed)
            let forwarded = String(decoding: try #require(try run.forwarded()), as: UTF8.self)
            #expect(forwarded == """
                X-Top: first\r
                Received: from a\r
                received: from B (changed)\r
                Subject: old\r
                To: bob@example.org\r
                X-Missing: appended\r
                X-Folded: one\r
                \ttwo\r
                \r
                new body\r
                second line\r
                .dot\r

                """)
            #expect(outcome.message.size == forwarded.utf8.count)
            var stuffed = outcome.message.content(dotStuffed: true)
            var stuffedText = ""
            while let chunk = try stuffed.next() { stuffedText += String(buffer: chunk) }
            #expect(stuffedText.hasSuffix("second line\r\n..dot\r\n"))
            #expect(outcome.envelope.sender == "new@example.test" && outcome.envelope.senderParameters == "BODY=8BITMIME")
            #expect(outcome.envelope.recipients(from: ["bob@example.org"]) == ["carol@example.org"])
            let record = try #require(run.milterRecords.last)
            #expect(record.verdict == "accept")
            #expect(record.modifications.map { "\($0.kind)=\($0.count)" } == [
                "add-header=1", "insert-header=1", "change-header=2", "delete-header=1", "replace-body=1", "change-from=1",
                "add-rcpt=1", "delete-rcpt=1", "quarantine=1",
            ])
        }
    }

    @Test func anUnmodifiedMessageIsForwardedByteForByte() async throws {
        let message = crlfMessage(["Subject: same", "X-Odd:no space", "  folded", "", ".leading dot", "end"])
        try await Self.withFake { _, driver in
            let run = try await driver.run(message: message)
            #expect(try run.forwarded() == Data(message))
        }
    }
}
