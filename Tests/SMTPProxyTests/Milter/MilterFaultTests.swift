import Foundation
import NIOCore
import NIOPosix
import SMTPCore
import SMTPFilters
import SMTPServices
import Testing

/// A milter that stalls, closes, answers garbage or an oversized packet, or is not there: the
/// `on-error` verdict and an `anomaly`, within the timeout, never a hang.
@Suite struct MilterFaultTests {
    /// Far beyond the milter's 1 s timeout and far below the session's own (5 min): an exchange
    /// that outlives it hung.
    static let hangBound = Duration.seconds(30)

    static func run(
        fault: FakeMilter.Fault, onError: MilterSettings.OnError, timeout: Duration = .seconds(1), steps: UInt32 = 0,
        message: [UInt8] = RealMilterTests.message(subject: "fault", body: ["body"])
    ) async throws -> (run: MilterSessionDriver.Run, elapsed: Duration) {
        let group = MultiThreadedEventLoopGroup.singleton  // never shut down: a milter task may finish after a test
        let fake = try await FakeMilter(group: group, fault: fault, steps: steps)
        let consultant = MilterConsultant(
            milters: [MilterSettings(name: "fake", socket: .inet(host: "127.0.0.1", port: fake.port), timeout: timeout, onError: onError)])
        let driver = MilterSessionDriver(consultant, eventLoop: group.next())
        let started = ContinuousClock.now
        let run = try await driver.run(message: message)
        let elapsed = ContinuousClock.now - started
        await driver.end()
        await fake.stop()
        return (run, elapsed)
    }

    static let tempfail = SMTPReply(code: 451, "4.7.1 Service unavailable - try again later")

    @Test(arguments: [
        (FakeMilter.Fault.stall(at: "C"), "timeout"), (.garbage(at: "C"), "garbage"), (.oversized(at: "C"), "oversized"),
        (.text(at: "C"), "oversized"), (.close(at: "C"), "closed"), (.stall(at: "O"), "timeout"), (.garbage(at: "O"), "garbage"),
        (.modification(at: "C"), "garbage"),
    ])
    func aBrokenMilterAtConnectRefusesTheSessionWithTempfail(fault: FakeMilter.Fault, kind: String) async throws {
        let (run, elapsed) = try await Self.run(fault: fault, onError: .tempfail)
        // The anomaly's kind says which limit ended the exchange; the bound only catches a hang
        // (on a loaded 2-core machine a 1 s timeout has been seen to complete after 6.6 s).
        #expect(elapsed < Self.hangBound, "took \(elapsed)")
        let refusal = try #require(run.refusal)
        #expect(refusal.stage == .connect)
        #expect(refusal.verdict.action == .reply(SMTPReply(code: 421, "4.7.1 Service unavailable - try again later")))
        #expect(run.milterRecords.map(\.verdict) == ["error"])
        #expect(run.anomalies.map(\.kind) == ["milter-error"])
        #expect(run.anomalies.first?.detail.hasPrefix("fake: \(kind):") == true, "\(run.anomalies)")
    }

    @Test(arguments: [Character("H"), "M", "R", "T", "L", "N", "B", "E"])
    func aMilterThatStallsAtAnyStepTimesOutWithItsOnErrorVerdict(step: Character) async throws {
        let (run, elapsed) = try await Self.run(fault: .stall(at: step), onError: .reject)
        #expect(elapsed < Self.hangBound, "took \(elapsed)")
        let refusal = try #require(run.refusal)
        let stages: [Character: ConsultStage] = ["H": .helo, "M": .mail, "R": .rcpt, "T": .data]
        #expect(refusal.stage == stages[step] ?? .endOfMessage)
        #expect(refusal.verdict.action == .reply(SMTPReply(code: 550, "5.7.1 Service unavailable")))
        #expect(run.anomalies.first?.detail.hasPrefix("fake: timeout:") == true, "\(run.anomalies)")
    }

    @Test func aMilterClosingMidBodyWithOnErrorAcceptLetsTheMessageThroughUnchanged() async throws {
        let message = RealMilterTests.message(subject: "accept on error", body: ["unchanged"])
        let (run, _) = try await Self.run(fault: .close(at: "B"), onError: .accept, message: message)
        #expect(run.refusal == nil)
        #expect(try run.forwarded() == Data(message))
        #expect(run.milterRecords.last?.verdict == "error")
        #expect(run.anomalies.first?.detail.hasPrefix("fake: closed:") == true)
    }

    @Test func anOversizedPacketAtEndOfMessageTempfails() async throws {
        let (run, _) = try await Self.run(fault: .oversized(at: "E"), onError: .tempfail)
        let refusal = try #require(run.refusal)
        #expect(refusal.stage == .endOfMessage)
        #expect(refusal.verdict.action == .reply(Self.tempfail))
        #expect(run.anomalies.first?.detail.hasPrefix("fake: oversized:") == true)
    }

    @Test func aMilterThatIsNotThereGivesOnErrorAtConnect() async throws {
        let group = MultiThreadedEventLoopGroup.singleton  // never shut down: a milter task may finish after a test
        for (onError, expected) in [(MilterSettings.OnError.reject, Verdict.Action.reply(SMTPReply(code: 554, "5.7.1 Service unavailable"))), (.accept, .proceed)] {
            let consultant = MilterConsultant(milters: [
                MilterSettings(name: "gone", socket: .inet(host: "127.0.0.1", port: freeLoopbackPort()), timeout: .seconds(2), onError: onError)
            ])
            let driver = MilterSessionDriver(consultant, eventLoop: group.next())
            let run = try await driver.run(message: RealMilterTests.message(subject: "x", body: ["y"]))
            await driver.end()
            #expect(run.verdicts.first?.verdict.action == expected)
            #expect(run.anomalies.count == 1 && run.anomalies[0].detail.hasPrefix("gone: unavailable:"), "\(run.anomalies)")
            // on-error accept: the milter is skipped for the rest of the session, the message passes.
            if onError == .accept { #expect(run.outcome?.verdict.action == .proceed) }
        }
    }

    @Test func aUnixSocketThatDoesNotExistIsUnavailable() async throws {
        let group = MultiThreadedEventLoopGroup.singleton  // never shut down: a milter task may finish after a test
        let consultant = MilterConsultant(milters: [
            MilterSettings(name: "sock", socket: .unix(path: "/nonexistent/milter.sock"), timeout: .seconds(2), onError: .tempfail)
        ])
        let driver = MilterSessionDriver(consultant, eventLoop: group.next())
        let run = try await driver.run(message: RealMilterTests.message(subject: "x", body: ["y"]))
        await driver.end()
        #expect(run.refusal?.verdict.action == .reply(SMTPReply(code: 421, "4.7.1 Service unavailable - try again later")))
    }
}
