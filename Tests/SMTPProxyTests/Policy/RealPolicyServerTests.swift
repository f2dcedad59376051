import Foundation
import NIOCore
import NIOPosix
import SMTPCore
import SMTPFilters
import SMTPServices
import Testing

/// The policy client against the real Debian servers (postgrey, postfwd), started by each test.
@Suite(.serialized) struct RealPolicyServerTests {
    /// postgrey: the first attempt of a new triplet is deferred with postgrey's text and status
    /// code (`DEFER_IF_PERMIT 4.2.0 Greylisted, …` → 450 4.2.0);
    /// once the delay has passed the same triplet passes with postgrey's `X-Greylist:` header
    /// to prepend.
    @Test func postgreyDefersThenPrepends() async throws {
        let postgrey = try PolicyServices.Postgrey(delay: 2)
        defer { postgrey.stop() }
        let rules = try PolicyTestSupport.ruleSet(service: postgrey.service, name: "greylist")
        let request = PolicyTestSupport.rcpt("bob@example.org", rules: ["greylist"])
        try await PolicyTestSupport.withConsultant(rules) { consultant, loop in
            let first = try await consultant.consult(request, at: .epoch, on: loop).get()
            let firstReply = try #require(PolicyTestSupport.reply(first))
            #expect(firstReply.hasPrefix("450 4.2.0 Greylisted, see "), "\(firstReply)")
            #expect(first.rule == "greylist" && first.policyAnswer?.hasPrefix("DEFER_IF_PERMIT 4.2.0 Greylisted") == true)
            // The greylist delay is what is being tested: ask again until postgrey lets it pass
            // (each retry before the delay is deferred again).
            var passed: Verdict?
            let deadline = ContinuousClock.now + .seconds(30)
            while passed == nil, ContinuousClock.now < deadline {
                let verdict = try await consultant.consult(request, at: .epoch, on: loop).get()
                if PolicyTestSupport.reply(verdict) == nil { passed = verdict } else { try await Task.sleep(for: .milliseconds(250)) }
            }
            let verdict = try #require(passed)
            #expect(verdict.prependHeaders.count == 1)
            #expect(verdict.prependHeaders.first?.hasPrefix("X-Greylist: delayed ") == true, "\(verdict.prependHeaders)")
            #expect(verdict.policyAnswer?.hasPrefix("PREPEND X-Greylist:") == true)
        }
    }

    static let rateRules = """
        id=RATE01; protocol_state==RCPT; action=rate(client_address/3/60/450 4.7.1 Rate limit: 3 messages a minute per client)

        """

    /// Two proxies (two consultants, each with its own client and event loop, as two processes
    /// would have) share one postfwd: the fourth message from one client is refused whichever
    /// proxy carries it; another client is not affected.
    @Test func postfwdRateLimitIsSharedByTwoInstances() async throws {
        let postfwd = try PolicyServices.Postfwd(rules: Self.rateRules)
        defer { postfwd.stop() }
        let rules = try PolicyTestSupport.ruleSet(service: postfwd.service, name: "rate")
        let groupA = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let groupB = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let instanceA = PolicyConsultant(rules: { rules }, client: PolicyClient())
        let instanceB = PolicyConsultant(rules: { rules }, client: PolicyClient())
        let client = Endpoint(host: "198.51.100.\(Int.random(in: 2...250))", port: 40_000)
        var timeline: [String] = []
        for (index, instance) in ["A", "B", "A", "B", "A"].enumerated() {
            let consultant = instance == "A" ? instanceA : instanceB
            let loop = instance == "A" ? groupA.next() : groupB.next()
            let facts = PolicyTestSupport.facts(client: client, session: "\(instance)-\(index)")
            let verdict = try await consultant.consult(
                PolicyTestSupport.rcpt("m\(index)@example.org", rules: ["rate"], facts: facts), at: .epoch, on: loop
            ).get()
            timeline.append("message \(index + 1) via \(instance): \(PolicyTestSupport.reply(verdict) ?? "proceed")")
        }
        #expect(timeline == [
            "message 1 via A: proceed", "message 2 via B: proceed", "message 3 via A: proceed",
            "message 4 via B: 450 4.7.1 Rate limit: 3 messages a minute per client",
            "message 5 via A: 450 4.7.1 Rate limit: 3 messages a minute per client",
        ], "\(timeline)")
        let other = PolicyTestSupport.facts(client: Endpoint(host: "203.0.113.9", port: 1))
        let unaffected = try await instanceB.consult(PolicyTestSupport.rcpt("x@example.org", rules: ["rate"], facts: other), at: .epoch, on: groupB.next()).get()
        #expect(PolicyTestSupport.reply(unaffected) == nil)
        instanceA.shutdown()
        instanceB.shutdown()
        try await groupA.shutdownGracefully()
        try await groupB.shutdownGracefully()
        print("postfwd shared rate limit timeline:\n" + timeline.joined(separator: "\n"))
    }
}
