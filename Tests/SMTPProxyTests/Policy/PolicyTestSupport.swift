import Foundation
import NIOCore
import NIOPosix
import SMTPCore
import SMTPFilters
import SMTPServices
import Testing

/// Shared by the policy tests: rule sets naming a service, consult requests, and a consultant on
/// an event loop of its own.
enum PolicyTestSupport {
    static func ruleSet(service: String, command: String = "RCPT", timeout: String = "2s", onError: String = "allow", name: String = "pol")
        throws -> RuleSet
    {
        try RuleSet(files: [RuleFile(parsing: """
            rules:
              - name: \(name)
                command: \(command)
                action: policy
                service: \(service)
                timeout: \(timeout)
                on-error: \(onError)
            """, path: "policy.yaml")])
    }

    /// Postfix settings that ask the policy server on `port` at every stage (HELO … ETRN), with
    /// no reverse lookup (`client_name=unknown`, as the proxy sends) and no delayed rejects.
    static func postfixAskingAtEveryStage(port: Int) -> [String] {
        let check = "check_policy_service inet:127.0.0.1:\(port)"
        return [
            "smtpd_peername_lookup = no", "smtpd_delay_reject = no", "disable_vrfy_command = no",
            "smtpd_helo_restrictions = \(check)", "smtpd_sender_restrictions = \(check)",
            "smtpd_recipient_restrictions = \(check)", "smtpd_data_restrictions = \(check)",
            "smtpd_end_of_data_restrictions = \(check)", "smtpd_etrn_restrictions = \(check)",
        ]
    }

    static func facts(
        client: Endpoint = Endpoint(host: "192.0.2.7", port: 50_123), server: Endpoint = Endpoint(host: "127.0.0.1", port: 25),
        helo: String? = "client.example", sender: String? = "alice@example.org", recipients: [String] = [], size: Int? = nil,
        transaction: Int = 1, session: String = "t1-1"
    ) -> SessionFacts {
        SessionFacts(
            sessionID: session, client: client, server: server, heloName: helo, protocolName: helo == nil ? nil : "ESMTP",
            sender: sender, recipients: recipients, size: size, transaction: transaction)
    }

    static func rcpt(_ recipient: String, rules: [String] = ["pol"], facts: SessionFacts = facts()) -> ConsultRequest {
        ConsultRequest(
            stage: .rcpt, verb: .rcpt, argument: "TO:<\(recipient)>", path: recipient, policyRules: rules, facts: facts)
    }

    /// A consultant over `ruleSet`, with its own loop; `body` runs with both.
    static func withConsultant<T>(
        _ ruleSet: RuleSet, observer: (any PolicyObserver)? = nil, limits: PolicyClient.Limits = PolicyClient.Limits(),
        _ body: (PolicyConsultant, any EventLoop) async throws -> T
    ) async throws -> T {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let consultant = PolicyConsultant(rules: { ruleSet }, client: PolicyClient(limits: limits), observer: observer)
        do {
            let result = try await body(consultant, group.next())
            consultant.shutdown()
            try await group.shutdownGracefully()
            return result
        } catch {
            consultant.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// The reply of a verdict (nil for `.proceed`).
    static func reply(_ verdict: Verdict) -> String? {
        switch verdict.action {
        case .reply(let reply): "\(reply.code) \(reply.text)"
        case .proceed: nil
        default: "\(verdict.action)"
        }
    }

    static func anomalies(_ verdict: Verdict) -> [String] {
        verdict.events.compactMap {
            if case .anomaly(let kind, let detail) = $0 { return "\(kind.rawValue): \(detail)" }
            return nil
        }
    }
}

/// Records what the consultant reports to metrics.
final class RecordingPolicyObserver: PolicyObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var _answers: [String] = []
    private var _failures: [String] = []
    var answers: [String] { lock.withLock { _answers } }
    var failures: [String] { lock.withLock { _failures } }

    func policyAnswered(service: String, answer: String, latency: Duration) {
        lock.withLock { _answers.append("\(service) \(answer)") }
    }

    func policyFailed(service: String, kind: PolicyFailure.Kind, latency: Duration) {
        lock.withLock { _failures.append("\(service) \(kind.rawValue)") }
    }
}
