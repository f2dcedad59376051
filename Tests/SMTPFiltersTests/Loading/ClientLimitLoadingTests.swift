import IPAddressing
import SMTPCore
import SMTPFilters
import Testing

/// What a valid `client-limits:` becomes (SPEC §10), and how files merge.
@Suite struct ClientLimitLoadingTests {
    @Test func everyKeyIsRead() throws {
        let yaml = """
            settings:
              client-limits-track: 5000
              greet-pause: 2s
              pregreet: reject
            client-limits:
              - name: sessions-per-address
                count: sessions
                max: 10
                action: reject
              - name: auth-guessing
                count: auth-failures
                max: 5
                per: 10m
                key: user
                action: ban
                for: 30m
                reply: "421 4.7.0 Go away"
              - name: harvest
                count: unknown-recipients
                max: 20
                per: 1h
                key: network
                action: tarpit
                delay: 1500ms
              - name: trusted
                client: [10.0.0.0/8, "2001:db8::/32"]
                action: exempt
            """
        let limits = try Fixtures.ruleSet(yaml).clientLimits
        #expect(limits.rules == [
            ClientLimitRule(
                name: "sessions-per-address", count: .sessions, max: 10, action: .reject,
                location: RuleLocation(file: "test.yaml", line: 6)),
            ClientLimitRule(
                name: "auth-guessing", count: .authFailures, max: 5, window: .seconds(600), key: .user,
                action: .ban(for: .seconds(1800)), reply: SMTPReply(code: 421, "4.7.0 Go away"),
                location: RuleLocation(file: "test.yaml", line: 10)),
            ClientLimitRule(
                name: "harvest", count: .unknownRecipients, max: 20, window: .seconds(3600), key: .network,
                action: .tarpit(delay: .milliseconds(1500)), location: RuleLocation(file: "test.yaml", line: 18)),
        ])
        #expect(limits.exemptions == [
            ClientExemption(
                name: "trusted", clients: [try CIDR(parsing: "10.0.0.0/8"), try CIDR(parsing: "2001:db8::/32")],
                location: RuleLocation(file: "test.yaml", line: 25)),
        ])
        #expect(limits.trackedKeys == 5000)
        #expect(limits.greetPause == .seconds(2))
        #expect(limits.pregreet == .reject)
        #expect(limits.isExempt(try #require(IPAddress("10.1.2.3"))))
        #expect(limits.isExempt(try #require(IPAddress("::ffff:10.1.2.3"))))
        #expect(!limits.isExempt(try #require(IPAddress("192.0.2.1"))))
    }

    @Test func withoutClientLimitsNothingIsLimited() throws {
        let limits = try Fixtures.ruleSet("rules: []\n").clientLimits
        #expect(limits.isEmpty)
        #expect(limits.trackedKeys == ClientLimits.defaultTrackedKeys)
        #expect(limits.greetPause == nil)
        #expect(limits.pregreet == .log)
    }

    @Test func filesMergeTighteningOnly() throws {
        let first = try RuleFile(
            parsing: "settings:\n  client-limits-track: 900\n  greet-pause: 1s\n  pregreet: reject\nclient-limits:\n  - name: a\n    count: sessions\n    max: 3\n    action: log\n",
            path: "10-a.yaml")
        let second = try RuleFile(
            parsing: "settings:\n  client-limits-track: 5000\n  greet-pause: 3s\n  pregreet: log\nclient-limits:\n  - name: b\n    count: messages\n    max: 3\n    per: 1h\n    action: reject\n",
            path: "20-b.yaml")
        let limits = try RuleSet(files: [first, second]).clientLimits
        #expect(limits.rules.map(\.name) == ["a", "b"])
        #expect(limits.trackedKeys == 900)
        #expect(limits.greetPause == .seconds(3))
        #expect(limits.pregreet == .reject)
    }

    @Test func checkCountsLimitProblemsOfEveryFile() throws {
        let report = CheckReport(paths: [Self.shippedFile])
        #expect(report.problems.map(\.description) == [])
        let limits = try #require(report.ruleSet?.clientLimits)
        #expect(!limits.isEmpty)
    }

    /// `filters/40-clients.yaml` of this repository.
    static var shippedFile: String {
        var path = #filePath
        for _ in 0..<4 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/filters/40-clients.yaml"
    }
}
