import SMTPCore
import Testing

/// `settings.greet-pause` and `settings.pregreet` (postscreen's pregreet test, SPEC §10).
@Suite struct GreetPauseTests {
    static func policy(pause: Duration? = .seconds(2), pregreet: PregreetAction? = .log) -> TestPolicy {
        var settings = PolicySettings()
        settings.greetPause = pause
        settings.pregreet = pregreet
        return TestPolicy(settings: settings)
    }

    @Test func theGreetingWaitsForThePause() throws {
        var h = EngineHarness(policy: Self.policy())
        #expect(h.upstreamConnects == 1)
        let wake = try #require(h.resumes.first)
        #expect(wake.deadline == h.time.adding(seconds: 2))
        h.server("220 mx.example ESMTP\r\n")
        #expect(h.takeToClient().isEmpty)
        h.time = wake.deadline
        h.decide(wake.id, .proceed)
        #expect(h.takeToClient() == "220 mx.example ESMTP\r\n")
        h.client("EHLO polite.example\r\n")
        #expect(h.anomalyKinds.isEmpty)
        #expect(h.takeToServer() == "EHLO polite.example\r\n")
    }

    @Test func aClientTalkingFirstIsLoggedAndGoesOn() throws {
        var h = EngineHarness(policy: Self.policy())
        h.client("EHLO eager.example\r\n")
        #expect(h.anomalyKinds == ["pregreet"])
        h.server("220 mx.example ESMTP\r\n")
        h.decide(h.resumes[0].id, .proceed)
        #expect(h.takeToClient() == "220 mx.example ESMTP\r\n")
        #expect(h.takeToServer() == "EHLO eager.example\r\n")
    }

    @Test func withRejectNothingOfItReachesTheUpstream() {
        var h = EngineHarness(policy: Self.policy(pregreet: .reject))
        h.client("EHLO spambot.example\r\nMAIL FROM:<x@y>\r\n")
        #expect(h.anomalyKinds == ["pregreet"])
        #expect(h.takeToClient() == "554 5.5.1 Error: talking before the greeting\r\n")
        #expect(h.takeToServer().isEmpty)
        #expect(h.closeClient && h.closeServer)
        h.finish()
        if case .sessionEnd(let summary) = h.events.last?.kind { #expect(summary.reason == "pregreet") }
    }

    @Test func withoutTheSettingsNothingIsWatched() {
        var h = EngineHarness(policy: Self.policy(pause: nil, pregreet: nil))
        #expect(h.resumes.isEmpty)
        h.client("EHLO eager.example\r\n")
        #expect(h.anomalyKinds.isEmpty)
    }
}

extension GreetPauseTests {
    /// FuzzEngine, crash-44db46a0…: the pregreet anomaly named how many octets the first read
    /// held, so its detail depended on how TCP cut the client's bytes.
    @Test func thePregreetAnomalyDoesNotDependOnSegmentation() {
        var whole = EngineHarness(policy: Self.policy(pause: nil, pregreet: .log))
        whole.client("EHLO\n")
        var split = EngineHarness(policy: Self.policy(pause: nil, pregreet: .log))
        for octet in "EHLO\n".utf8 { split.client([octet]) }
        #expect(whole.events.map(\.kind) == split.events.map(\.kind))
        #expect(whole.anomalyKinds == ["pregreet", "bare-lf"])
    }
}
