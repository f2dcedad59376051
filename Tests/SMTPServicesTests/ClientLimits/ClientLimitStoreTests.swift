import Dispatch
import SMTPCore
import SMTPFilters
import Testing

@testable import SMTPServices

/// The store shared by sessions on several event loops at once.
@Suite struct ClientLimitStoreTests {
    /// Eight threads count into the same 64 keys at once (a CONNECT consult, a start and a
    /// failure per session, an end for every other one): no count is lost.
    @Test func concurrentSessionsLoseNoCount() throws {
        let consultant = ClientLimitConsultant(
            limits: try LimitFixtures.limits("""
                settings:
                  client-limits-track: 100000
                client-limits:
                  - name: open
                    count: sessions
                    max: 1000000
                    action: log
                  - name: failures
                    count: auth-failures
                    max: 1000000
                    per: 1h
                    action: log
                """))
        let perThread = 2_000
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for index in 0..<perThread {
                let session = "t\(thread)-\(index)"
                let host = "192.0.2.\(index % 64)"
                _ = consultant.verdict(for: LimitFixtures.request(.connect, session: session, from: host), at: LimitFixtures.at(1))
                consultant.observe([
                    LimitFixtures.sessionStart(session, from: host, at: 1),
                    LimitFixtures.reply(session, at: 1, 535, "5.7.8 no", for: "AUTH"),
                ][...])
                if index % 2 == 1 { consultant.observe([LimitFixtures.sessionEnd(session, at: 2)][...]) }
            }
        }
        // Half the sessions are still open: 8 threads × 1,000 over 64 addresses.
        let layout = consultant.store.layout(for: CounterKey.client("192.0.2.0").address)
        var failures = 0
        var open = 0
        for index in 0..<64 {
            let key = CounterKey.client("192.0.2.\(index)").address
            failures += consultant.store.reading(layout.slots[1], of: layout, for: key, at: 2_000)?.count ?? -1
            open += consultant.store.reading(layout.slots[0], of: layout, for: key, at: 2_000)?.count ?? -1
        }
        #expect(failures == 8 * perThread)
        #expect(open == 8 * perThread / 2)
        #expect(consultant.sessions.count == 8 * perThread / 2)
        #expect(consultant.store.keyCount == 64)
    }

    /// The key count (the gauge) follows keys that come, expire and are dropped by a reload.
    @Test func theKeyCountFollowsKeysThatComeAndGo() throws {
        let rule = "client-limits:\n  - name: c\n    count: connections\n    max: 5\n    per: 1m\n    action: log\n"
        let consultant = ClientLimitConsultant(limits: try LimitFixtures.limits("settings:\n  client-limits-track: 10\n" + rule))
        for index in 0..<25 {
            consultant.observe([LimitFixtures.sessionStart("s\(index)", from: "198.51.100.\(index)", at: Double(index))][...])
        }
        #expect(consultant.store.keyCount == 10)
        // Five minutes on, each new key also drops two that count nothing any more.
        for index in 0..<3 {
            consultant.observe([LimitFixtures.sessionStart("n\(index)", from: "203.0.113.\(index)", at: 300)][...])
        }
        #expect(consultant.store.keyCount == 7)
        consultant.reload(try LimitFixtures.limits("settings:\n  client-limits-track: 2\n" + rule))
        #expect(consultant.store.keyCount == 2)
        #expect(ClientLimitConsultant.trackedKeys(in: ConsultantChain([consultant])) == 2)
    }

    @Test func aReloadedRuleSetKeepsItsConsultant() throws {
        let first = try #require(
            ClientLimitConsultant.reusing(nil, for: try LimitFixtures.limits(ClientLimitConsultantTests.bruteForce), dryRun: false))
        let chain = ConsultantChain([first])
        #expect(ClientLimitConsultant.reusing(chain, for: try LimitFixtures.limits(ClientLimitConsultantTests.bruteForce), dryRun: false) === first)
        #expect(ClientLimitConsultant.reusing(chain, for: ClientLimits(), dryRun: false) == nil)
        #expect(ClientLimitConsultant.reusing(nil, for: nil, dryRun: false) == nil)
    }
}
