import SMTPCore
import Yams

/// The keys of `action: policy` rules (SPEC §11): `service`, `timeout`, `on-error`, and the
/// commands such a rule may name.
extension RuleFileParser {
    /// `service`, `timeout` and `on-error` belong to policy rules; a policy rule needs `service`
    /// and a `command` among Postfix's protocol states.
    mutating func checkPolicyKeys(_ fields: [String: Entry], with action: RuleAction, actionNode: Node, command: CommandMatch?) {
        guard action == .policy else {
            for key in ["service", "timeout", "on-error"] {
                if let entry = fields[key] { report("'\(key)' is only for action 'policy'", at: entry.key) }
            }
            return
        }
        if fields["service"] == nil {
            report("action 'policy' needs 'service' (inet:HOST:PORT or unix:PATH of the policy server)", at: actionNode)
        }
        let allowed = PolicyService.commands.joined(separator: ", ")
        guard let entry = fields["command"] else {
            report("action 'policy' needs 'command' (one or more of \(allowed))", at: actionNode)
            return
        }
        switch command {
        case .any:
            report("action 'policy' cannot apply to any command (\"*\"); name one or more of \(allowed)", at: entry.value)
        case .verbs(let verbs):
            let unsupported = verbs.map(\.name).filter { !PolicyService.commands.contains($0) }.sorted()
            if !unsupported.isEmpty {
                let names = unsupported.map { "'\($0)'" }.joined(separator: ", ")
                report("action 'policy' cannot apply to \(names) (policy servers are asked at \(allowed))", at: entry.value)
            }
        case nil:
            break  // already reported
        }
    }

    /// `inet:127.0.0.1:10023`, `inet:[::1]:10023` or `unix:/run/postgrey.sock`.
    mutating func policyAddress(_ node: Node) -> PolicyService.Address? {
        guard let text = string(node, key: "service") else { return nil }
        do {
            return try PolicyService.Address(parsing: text, key: "service")
        } catch {
            report(error, at: node)
            return nil
        }
    }

    /// `10s`, `500ms`, `2m`, or a whole number of seconds; at least 1 ms, at most 1 hour.
    mutating func policyTimeout(_ node: Node) -> Duration? {
        guard let text = string(node, key: "timeout") else { return nil }
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let unit = text.dropFirst(digits.count)
        let value = Int64(digits)
        let duration: Duration? =
            switch (value, unit) {
            case (let value?, "ms"): .milliseconds(value)
            case (let value?, "s"), (let value?, ""): .seconds(value)
            case (let value?, "m"): .seconds(value * 60)
            default: nil
            }
        guard let duration, duration >= .milliseconds(1), duration <= .seconds(3600) else {
            report("'timeout' must be a duration from 1ms to 1h such as 10s, 500ms or 2m, not '\(text)'", at: node)
            return nil
        }
        return duration
    }

    mutating func policyErrorMode(_ node: Node) -> PolicyService.ErrorMode? {
        guard let text = string(node, key: "on-error") else { return nil }
        if let mode = PolicyService.ErrorMode(rawValue: text) { return mode }
        let hint = KeySuggestion.hint(for: text, among: PolicyService.ErrorMode.allCases.map(\.rawValue))
        report("'on-error' must be 'allow' or 'tempfail', not '\(text)'\(hint)", at: node)
        return nil
    }
}
