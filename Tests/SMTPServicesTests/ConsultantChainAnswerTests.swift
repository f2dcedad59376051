import NIOCore
import NIOPosix
import SMTPCore
import SMTPFilters
import Testing

@testable import SMTPServices

/// `ConsultantChain.answer`: consultants that know their verdict at once (the client limits)
/// decide without a future; one that must wait takes the rest of the chain into a future, and
/// the consultants asked before it are asked exactly once.
@Suite struct ConsultantChainAnswerTests {
    typealias F = LimitFixtures

    /// A consultant that answers only through a future (as a policy service or a milter does),
    /// and counts the consults it was asked (on the test's thread: `answer` asks synchronously).
    final class LaterConsultant: SessionConsultant, @unchecked Sendable {
        let answer: Verdict
        private(set) var consults = 0

        init(answering answer: Verdict) {
            self.answer = answer
        }

        func stages(for client: Endpoint) -> Set<ConsultStage> { [.connect] }

        func consult(_ request: ConsultRequest, at time: SMTPTimestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Verdict> {
            consults += 1
            return eventLoop.scheduleTask(in: .milliseconds(1)) { self.answer }.futureResult
        }
    }

    /// A log limit on connections that the second session of an address hits.
    static func connectionLog(action: String) throws -> ClientLimitConsultant {
        let consultant = ClientLimitConsultant(
            limits: try F.limits(
                """
                client-limits:
                  - name: flood
                    count: connections
                    max: 1
                    per: 1m
                    action: \(action)
                """))
        consultant.observe([F.sessionStart("s0", from: "198.51.100.7", at: 0)][...])
        return consultant
    }

    static let loop = MultiThreadedEventLoopGroup.singleton.next()

    @Test func limitsAloneDecideAtOnce() throws {
        let chain = ConsultantChain([try Self.connectionLog(action: "log")])
        guard case .now(let verdict) = chain.answer(F.request(.connect, session: "s1", from: "198.51.100.7"), at: F.at(1), on: Self.loop)
        else {
            Issue.record("the client limits answered through a future")
            return
        }
        #expect(verdict.action == .proceed)
        #expect(F.limitEvents(verdict).map(\.rule) == ["flood"])
        // Another address hits nothing: a plain proceed, still at once.
        guard case .now(let other) = chain.answer(F.request(.connect, session: "o1", from: "198.51.100.8"), at: F.at(1), on: Self.loop)
        else {
            Issue.record("the client limits answered through a future")
            return
        }
        #expect(other == .proceed)
    }

    @Test func aConsultantThatWaitsTakesTheRestOfTheChainAndKeepsWhatCameBefore() throws {
        let later = LaterConsultant(answering: Verdict(.reply(SMTPReply(code: 554, "5.7.1 no")), rule: "policy"))
        let chain = ConsultantChain([try Self.connectionLog(action: "log"), later])
        guard case .later(let future) = chain.answer(F.request(.connect, session: "s1", from: "198.51.100.7"), at: F.at(1), on: Self.loop)
        else {
            Issue.record("a consultant that waits was answered at once")
            return
        }
        let verdict = try future.wait()
        #expect(verdict.action == .reply(SMTPReply(code: 554, "5.7.1 no")))
        #expect(verdict.rule == "policy")
        #expect(F.limitEvents(verdict).map(\.rule) == ["flood"])  // the limits' hit, once
        #expect(later.consults == 1)
    }

    @Test func aRefusalAtOnceAsksNobodyAfterIt() throws {
        let later = LaterConsultant(answering: .proceed)
        let chain = ConsultantChain([try Self.connectionLog(action: "reject"), later])
        let request = F.request(.connect, session: "s1", from: "198.51.100.7")
        guard case .now(let verdict) = chain.answer(request, at: F.at(1), on: Self.loop) else {
            Issue.record("a refusal of the limits waited for the next consultant")
            return
        }
        #expect(verdict.rule == "flood")
        #expect(verdict.endReason == "client-limit")
        #expect(later.consults == 0)
        // `consult` (a future) and the waiting `answer(_:at:)` give the same verdict.
        let again = F.request(.connect, session: "s2", from: "198.51.100.7")
        #expect(try chain.consult(again, at: F.at(2), on: Self.loop).wait().rule == "flood")
        #expect(chain.answer(F.request(.connect, session: "s3", from: "198.51.100.7"), at: F.at(3)).rule == "flood")
        #expect(later.consults == 0)
    }

    @Test func excludedConsultantsAreSkipped() throws {
        let later = LaterConsultant(answering: .proceed)
        let limits = try Self.connectionLog(action: "log")
        let chain = ConsultantChain([limits, later])
        guard
            case .now(let verdict) = chain.answer(
                F.request(.connect, session: "s1", from: "198.51.100.7"), at: F.at(1), on: Self.loop, excluding: later)
        else {
            Issue.record("the excluded consultant was asked")
            return
        }
        #expect(F.limitEvents(verdict).map(\.rule) == ["flood"])
        #expect(later.consults == 0)
    }
}
