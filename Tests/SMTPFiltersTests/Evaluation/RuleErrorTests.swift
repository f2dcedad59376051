import NIOCore
import RegexBuilder
import SMTPCore
import Testing

@testable import SMTPFilters

/// A rule whose pattern fails while matching must refuse the command (451, fail closed) and say
/// so in an `anomaly` `rule-error`, never count as "no match": a reject rule would fail open.
///
/// No regex written as text fails at match time with Swift's engine (its errors are found when
/// the pattern is compiled, at load time); a regex can still throw from a component, and the
/// rule set must stay closed if one does. The test builds such a regex: it throws on `boom`.
@Suite struct RuleErrorTests {
    struct Boom: Error, CustomStringConvertible {
        var description: String { "component failed" }
    }

    struct FailsOnBoom: CustomConsumingRegexComponent {
        typealias RegexOutput = Substring
        func consuming(_ input: String, startingAt index: String.Index, in bounds: Range<String.Index>) throws
            -> (upperBound: String.Index, output: Substring)?
        {
            if input[index..<bounds.upperBound].hasPrefix("boom") { throw Boom() }
            return nil
        }
    }

    static func ruleSet() throws -> RuleSet {
        let pattern = try ArgumentPattern(source: "<fails on boom>", regex: Regex<AnyRegexOutput>(Regex { FailsOnBoom() }))
        return RuleSet(rules: [
            Rule(name: "log-mail", command: .verbs([.mail]), action: .log),
            Rule(name: "no-boom", command: .verbs([.mail]), argument: pattern, action: .reject),
        ])
    }

    @Test func aPatternThatThrowsRefusesTheCommandWithARuleError() throws {
        let rules = try Self.ruleSet()
        let client = Endpoint(host: "192.0.2.1", port: 40000)
        let decision = rules.decide(SMTPCommand(verb: .mail, argument: "FROM:<boom@example.org>"), client: client)
        guard case .reject(let reply) = decision.action else {
            Issue.record("not refused: \(decision)")
            return
        }
        #expect(reply?.code == 451)
        #expect(decision.rule == "no-boom")
        #expect(decision.loggedBy == ["log-mail"])
        #expect(decision.anomaly?.kind == .ruleError)
        #expect(decision.anomaly?.detail.contains("component failed") == true)
        // The same rule on an argument it can match: no match, no anomaly.
        let quiet = rules.decide(SMTPCommand(verb: .mail, argument: "FROM:<fine@example.org>"), client: client)
        #expect(quiet.action == .forward && quiet.anomaly == nil)
    }

    @Test func theEngineLogsTheAnomalyAndAnswers451WithoutForwarding() throws {
        var engine = InspectionEngine(
            configuration: InspectionConfiguration(
                sessionID: "r1", client: Endpoint(host: "192.0.2.1", port: 40000), server: Endpoint(host: "198.51.100.25", port: 25),
                source: "test"),
            policy: try Self.ruleSet())
        var effects = InspectionEffects()
        let now = SMTPTimestamp(seconds: 1_764_403_200)
        engine.start(at: now, into: &effects)
        engine.receiveFromServer(ByteBuffer(string: "220 mx ESMTP\r\n"), at: now, into: &effects)
        effects.removeAll()
        engine.receiveFromClient(ByteBuffer(string: "MAIL FROM:<boom@example.org>\r\n"), at: now, into: &effects)
        let toServer = effects.toServer.map { String(buffer: $0) }.joined()
        let toClient = effects.toClient.map { String(buffer: $0) }.joined()
        #expect(toServer.isEmpty, "forwarded: \(toServer)")
        #expect(toClient.hasPrefix("451 4.3.0"), "\(toClient)")
        let anomalies = effects.events.compactMap { if case .anomaly(let kind, _) = $0.kind { kind } else { nil } }
        #expect(anomalies == [.ruleError])
        let commands = effects.events.compactMap { if case .command(let record) = $0.kind { record } else { nil } }
        #expect(commands.map(\.action) == ["reject"] && commands.first?.rule == "no-boom")
    }
}
