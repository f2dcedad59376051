import NIOCore
import SMTPCore
import SMTPFilters
import SMTPServices
import Testing

/// Every way a policy server can fail ends in the rule's `on-error` verdict, an `anomaly
/// policy-error` and a failure count, within the rule's timeout: never a stuck command.
@Suite struct PolicyClientFaultTests {
    struct Fault: CustomTestStringConvertible, Sendable {
        var label: String
        var behaviour: FakePolicyServer.Behaviour
        var kind: String
        var testDescription: String { label }
    }

    static let faults = [
        Fault(label: "silent past the timeout", behaviour: .silent, kind: "timeout"),
        Fault(label: "garbage", behaviour: .garbage, kind: "garbage"),
        Fault(label: "answer over 1 KiB", behaviour: .oversized, kind: "oversized"),
        Fault(label: "closes before answering", behaviour: .closeBeforeAnswer, kind: "reset"),
        Fault(label: "closes mid-answer", behaviour: .closeMidAnswer, kind: "reset"),
    ]

    @Test(arguments: faults, ["allow", "tempfail"])
    func faultGivesOnErrorVerdict(_ fault: Fault, _ onError: String) async throws {
        let server = try FakePolicyServer(fault.behaviour)
        defer { server.stop() }
        let observer = RecordingPolicyObserver()
        let rules = try PolicyTestSupport.ruleSet(service: server.service, timeout: "300ms", onError: onError)
        let (verdict, elapsed) = try await PolicyTestSupport.withConsultant(rules, observer: observer) { consultant, loop in
            // Timed on the event loop, where the verdict completes (the test's own task may wait
            // longer for a thread on a busy machine).
            let started = NIODeadline.now()
            return try await consultant.consult(PolicyTestSupport.rcpt("bob@example.net"), at: .epoch, on: loop)
                .map { ($0, NIODeadline.now() - started) }.get()
        }
        #expect(elapsed < .seconds(2), "the rule's timeout (300 ms) bounds every failure: \(elapsed)")
        #expect(PolicyTestSupport.reply(verdict) == (onError == "allow" ? nil : "451 4.3.5 Server configuration problem"))
        #expect(verdict.rule == "pol")
        #expect(verdict.policyAnswer == "error: \(fault.kind)")
        let anomalies = PolicyTestSupport.anomalies(verdict)
        #expect(anomalies.count == 1 && anomalies[0].hasPrefix("policy-error: rule pol: \(fault.kind): "), "\(anomalies)")
        #expect(observer.failures == ["\(server.service) \(fault.kind)"])
        #expect(server.requests.count == 1)
    }

    @Test(arguments: ["allow", "tempfail"])
    func serverDownIsRefused(_ onError: String) async throws {
        let port = freeLoopbackPort()
        let observer = RecordingPolicyObserver()
        let rules = try PolicyTestSupport.ruleSet(service: "inet:127.0.0.1:\(port)", onError: onError)
        let verdict = try await PolicyTestSupport.withConsultant(rules, observer: observer) { consultant, loop in
            try await consultant.consult(PolicyTestSupport.rcpt("bob@example.net"), at: .epoch, on: loop).get()
        }
        #expect(PolicyTestSupport.reply(verdict) == (onError == "allow" ? nil : "451 4.3.5 Server configuration problem"))
        #expect(PolicyTestSupport.anomalies(verdict).first?.hasPrefix("policy-error: rule pol: refused: cannot connect") == true)
        #expect(observer.failures == ["inet:127.0.0.1:\(port) refused"])
    }

    @Test func unixSocketServiceDownIsRefused() async throws {
        let rules = try PolicyTestSupport.ruleSet(service: "unix:/tmp/no-such-policy-\(freeLoopbackPort()).sock", onError: "tempfail")
        let verdict = try await PolicyTestSupport.withConsultant(rules) { consultant, loop in
            try await consultant.consult(PolicyTestSupport.rcpt("bob@example.net"), at: .epoch, on: loop).get()
        }
        #expect(PolicyTestSupport.reply(verdict) == "451 4.3.5 Server configuration problem")
    }

    /// A slow answer that arrives after the timeout is not taken for the next request's: the
    /// connection that carried the late request is dropped, and the next one gets its own answer.
    @Test func lateAnswerDoesNotLeakIntoTheNextRequest() async throws {
        let server = try FakePolicyServer(.answerAfter(.milliseconds(600), "REJECT late"))
        defer { server.stop() }
        let rules = try PolicyTestSupport.ruleSet(service: server.service, timeout: "200ms")
        try await PolicyTestSupport.withConsultant(rules) { consultant, loop in
            let first = try await consultant.consult(PolicyTestSupport.rcpt("a@example.net"), at: .epoch, on: loop).get()
            #expect(first.policyAnswer == "error: timeout")
            server.setBehaviour(.answer { _ in "DUNNO" })
            let second = try await consultant.consult(PolicyTestSupport.rcpt("b@example.net"), at: .epoch, on: loop).get()
            #expect(second.policyAnswer == "DUNNO" && PolicyTestSupport.reply(second) == nil)
        }
        #expect(server.connections == 2)
    }

    /// One connection serves request after request; after a failure the next request reconnects.
    @Test func connectionsAreReusedAndRemadeAfterFailure() async throws {
        let server = try FakePolicyServer(.answer { _ in "DUNNO" })
        defer { server.stop() }
        let rules = try PolicyTestSupport.ruleSet(service: server.service)
        try await PolicyTestSupport.withConsultant(rules) { consultant, loop in
            for index in 0..<20 {
                let verdict = try await consultant.consult(PolicyTestSupport.rcpt("r\(index)@example.net"), at: .epoch, on: loop).get()
                #expect(verdict.policyAnswer == "DUNNO")
            }
            #expect(server.connections == 1)
            server.setBehaviour(.closeBeforeAnswer)
            let broken = try await consultant.consult(PolicyTestSupport.rcpt("x@example.net"), at: .epoch, on: loop).get()
            #expect(broken.policyAnswer == "error: reset")
            server.setBehaviour(.answer { _ in "OK" })
            let again = try await consultant.consult(PolicyTestSupport.rcpt("y@example.net"), at: .epoch, on: loop).get()
            #expect(again.policyAnswer == "OK")
        }
        #expect(server.requests.count == 23, "a reused connection closed without an answer is retried once on a fresh one")
    }

    /// Many sessions at once: at most `connections` requests are in flight per service and loop,
    /// the rest wait in order and all get their answer; past `maximumQueued` they fail at once.
    @Test func requestsInFlightAreBounded() async throws {
        let server = try FakePolicyServer(.answerAfter(.milliseconds(20), "DUNNO"))
        defer { server.stop() }
        let rules = try PolicyTestSupport.ruleSet(service: server.service, timeout: "10s")
        let observer = RecordingPolicyObserver()
        let limits = PolicyClient.Limits(connections: 3, maximumQueued: 40)
        let verdicts = try await PolicyTestSupport.withConsultant(rules, observer: observer, limits: limits) { consultant, loop in
            let futures = (0..<50).map { index in
                loop.flatSubmit { consultant.consult(PolicyTestSupport.rcpt("r\(index)@example.net"), at: .epoch, on: loop) }
            }
            var verdicts: [Verdict] = []
            for future in futures { verdicts.append(try await future.get()) }
            return verdicts
        }
        #expect(server.maximumOpenConnections <= 3)
        #expect(verdicts.filter { $0.policyAnswer == "DUNNO" }.count == 43)
        #expect(verdicts.filter { $0.policyAnswer == "error: overload" }.count == 7)
        #expect(observer.failures.count == 7)
    }

    /// Several policy rules on one command are asked in order; the first refusal decides and the
    /// later rules are not asked; PREPENDs and anomalies of the rules asked are all kept.
    @Test func rulesAreAskedInOrderUntilOneRefuses() async throws {
        let prepender = try FakePolicyServer(.answer { _ in "PREPEND X-Checked: yes" })
        let holder = try FakePolicyServer(.answer { _ in "HOLD" })
        let refuser = try FakePolicyServer(.answer { _ in "REJECT not here" })
        let never = try FakePolicyServer(.answer { _ in "OK" })
        defer { [prepender, holder, refuser, never].forEach { $0.stop() } }
        let rules = try RuleSet(files: [RuleFile(parsing: """
            rules:
              - {name: a, command: RCPT, action: policy, service: "\(prepender.service)"}
              - {name: b, command: RCPT, action: policy, service: "\(holder.service)"}
              - {name: c, command: RCPT, action: policy, service: "\(refuser.service)"}
              - {name: d, command: RCPT, action: policy, service: "\(never.service)"}
            """, path: "p.yaml")])
        let verdict = try await PolicyTestSupport.withConsultant(rules) { consultant, loop in
            let names = rules.decide(SMTPCommand(verb: .rcpt, argument: "TO:<b@example.net>"), client: Endpoint(host: "192.0.2.7", port: 1)).consult
            #expect(names == ["a", "b", "c", "d"])
            return try await consultant.consult(PolicyTestSupport.rcpt("b@example.net", rules: names), at: .epoch, on: loop).get()
        }
        #expect(PolicyTestSupport.reply(verdict) == "554 5.7.1 not here")
        #expect(verdict.rule == "c" && verdict.policyAnswer == "REJECT not here")
        #expect(verdict.prependHeaders == ["X-Checked: yes"])
        #expect(PolicyTestSupport.anomalies(verdict).count == 1)
        #expect(PolicyTestSupport.anomalies(verdict).first?.hasPrefix("policy-unsupported: rule b") == true)
        #expect(never.requests.isEmpty)
    }

    /// A consult naming no policy rule (another consultant's stage) costs nothing; at
    /// END-OF-MESSAGE the rules the rule set names are asked.
    @Test func endOfMessageRulesAndUnrelatedConsults() async throws {
        let server = try FakePolicyServer(.answer { attributes in
            attributes.first { $0.0 == "protocol_state" }?.1 == "END-OF-MESSAGE" ? "452 4.5.3 Too much mail" : "DUNNO"
        })
        defer { server.stop() }
        let rules = try PolicyTestSupport.ruleSet(service: server.service, command: "END-OF-MESSAGE")
        try await PolicyTestSupport.withConsultant(rules) { consultant, loop in
            #expect(consultant.stages(for: Endpoint(host: "192.0.2.7", port: 1)).isEmpty)
            let names = rules.endOfMessageConsults(client: Endpoint(host: "192.0.2.7", port: 1))
            #expect(names == ["pol"])
            let unrelated = try await consultant.consult(PolicyTestSupport.rcpt("a@example.net", rules: []), at: .epoch, on: loop).get()
            #expect(unrelated == .proceed)
            let end = ConsultRequest(stage: .endOfMessage, policyRules: names, facts: PolicyTestSupport.facts(recipients: ["a@example.net"], size: 10))
            let verdict = try await consultant.consult(end, at: .epoch, on: loop).get()
            #expect(PolicyTestSupport.reply(verdict) == "452 4.5.3 Too much mail")
        }
        #expect(server.requests.count == 1)
    }
}
