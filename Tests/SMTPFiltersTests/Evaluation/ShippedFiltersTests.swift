import Foundation
import SMTPCore
import SMTPFilters
import Testing

/// The rule files shipped in `filters/`: they load, and they give these verdicts.
@Suite struct ShippedFiltersTests {
    /// `filters/` at the root of the repository.
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Evaluation
        .deletingLastPathComponent()  // SMTPFiltersTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()
        .appendingPathComponent("filters")
        .path

    static func load() throws -> RuleSet {
        try RuleSet.load(paths: [directory])
    }

    @Test func theDirectoryIsValid() {
        let report = CheckReport(paths: [Self.directory])
        #expect(report.problems == [])
        #expect(report.files.map { ($0 as NSString).lastPathComponent }
            == ["10-exchange.yaml", "20-reconnaissance.yaml", "30-limits.yaml", "40-clients.yaml"])
    }

    @Test(arguments: ["10-exchange.yaml", "20-reconnaissance.yaml", "30-limits.yaml", "40-clients.yaml"])
    func eachFileLoadsOnItsOwn(name: String) throws {
        _ = try RuleSet.load(paths: [Self.directory + "/" + name])
    }

    struct Verdict: CustomTestStringConvertible, Sendable {
        var verb: String
        var argument: String = ""
        var action: PolicyDecision.Action
        var rule: String?
        var loggedBy: [String] = []
        var testDescription: String { "\(verb) \(argument)" }
    }

    static let refuseExchange = PolicyDecision.Action.reject(SMTPReply(code: 502, "5.5.1 Command not implemented"))
    static let refuseVRFY = PolicyDecision.Action.reject(SMTPReply(code: 502, "5.5.1 VRFY and EXPN are disabled"))
    static let refuseTURN = PolicyDecision.Action.reject(SMTPReply(code: 502, "5.5.1 TURN and ATRN are not offered here"))

    @Test(arguments: [
        Verdict(verb: "VRFY", argument: "postmaster", action: refuseVRFY, rule: "no-vrfy-expn"),
        Verdict(verb: "vrfy", argument: "root", action: refuseVRFY, rule: "no-vrfy-expn"),
        Verdict(verb: "EXPN", argument: "staff", action: refuseVRFY, rule: "no-vrfy-expn"),
        Verdict(verb: "TURN", action: refuseTURN, rule: "no-turn"),
        Verdict(verb: "ATRN", argument: "example.org", action: refuseTURN, rule: "no-turn"),
        Verdict(verb: "X-EXCH50", argument: "1024 2", action: refuseExchange, rule: "exchange-refuse-verbs"),
        Verdict(verb: "XEXCH50", argument: "1024 2", action: refuseExchange, rule: "exchange-refuse-verbs"),
        Verdict(verb: "X-LINK2STATE", argument: "LAST CHUNK=1", action: refuseExchange, rule: "exchange-refuse-verbs"),
        Verdict(verb: "x-exps", argument: "GSSAPI", action: refuseExchange, rule: "exchange-refuse-verbs"),
        Verdict(verb: "AUTH", argument: "PLAIN", action: .forward, rule: "audit-auth", loggedBy: ["audit-auth"]),
        Verdict(verb: "EHLO", argument: "client.example.org", action: .forward),
        Verdict(verb: "MAIL", argument: "FROM:<alice@example.org> SIZE=1024", action: .forward),
        Verdict(verb: "RCPT", argument: "TO:<bob@example.org>", action: .forward),
        Verdict(verb: "DATA", action: .forward),
        Verdict(verb: "BDAT", argument: "100 LAST", action: .forward),
        Verdict(verb: "STARTTLS", action: .forward),
        Verdict(verb: "QUIT", action: .forward),
    ])
    func commandVerdicts(_ verdict: Verdict) throws {
        let decision = try Self.load().decide(
            SMTPCommand(verb: SMTPVerb(verdict.verb), argument: verdict.argument),
            client: Endpoint(host: "198.51.100.20", port: 40_000))
        #expect(decision == PolicyDecision(action: verdict.action, rule: verdict.rule, loggedBy: verdict.loggedBy))
    }

    @Test(arguments: [
        ("X-EXCH50", "exchange-hide-keywords" as String?),
        ("XEXCH50", "exchange-hide-keywords"),
        ("X-LINK2STATE", "exchange-hide-keywords"),
        ("X-EXPS", "exchange-hide-keywords"),
        ("PIPELINING", nil),
        ("CHUNKING", nil),
        ("STARTTLS", nil),
        ("SIZE", nil),
        ("AUTH", nil),
    ])
    func ehloKeywords(keyword: String, strippedBy rule: String?) throws {
        let client = Endpoint(host: "2001:db8::25", port: 40_000)
        #expect(try Self.load().stripRule(forKeyword: keyword, client: client) == rule)
    }

    @Test(arguments: [
        (535, SMTPVerb.authResponse as SMTPVerb?, ["audit-auth-failures"]),
        (535, .auth, ["audit-auth-failures"]),
        (534, .auth, ["audit-auth-failures"]),
        (235, .auth, []),
        (250, .mail, []),
        (550, .rcpt, []),
        (220, nil, []),
    ])
    func replyVerdicts(code: Int, verb: SMTPVerb?, rules: [String]) throws {
        let client = Endpoint(host: "192.0.2.30", port: 40_000)
        #expect(try Self.load().replyRules(code: code, verb: verb, client: client) == rules)
    }

    @Test func settings() throws {
        var expected = PolicySettings(
            banner: nil, maxLineLength: 4096, maxRecipients: 100, maxMessageSize: 52_428_800,
            bareNewline: .normalize)
        expected.pregreet = .log  // 40-clients.yaml: postscreen's pregreet test, logged
        #expect(try Self.load().settings == expected)
    }
}
