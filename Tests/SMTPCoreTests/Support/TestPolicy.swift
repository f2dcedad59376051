import NIOCore
import SMTPCore

/// A hand-written policy for engine tests (the YAML rule sets are tested in SMTPFiltersTests).
struct TestPolicy: InspectionPolicy {
    var settings = PolicySettings()
    var rejected: Set<String> = []
    var disconnected: Set<String> = []
    var logged: Set<String> = []
    var stripped: Set<String> = []
    /// verb → (argument prefix to match, replacement argument)
    var rewrites: [String: (String, String)] = [:]
    var replyLogCodes: Set<Int> = []
    var loggedKeywords: Set<String> = []

    func keywordLogRules(forKeyword keyword: String, client: Endpoint) -> [String] {
        loggedKeywords.contains(keyword) ? ["log-keyword-\(keyword.lowercased())"] : []
    }

    func decide(_ command: SMTPCommand, client: Endpoint) -> PolicyDecision {
        let verb = command.verb.name
        let loggedBy = logged.contains(verb) ? ["log-\(verb.lowercased())"] : []
        if rejected.contains(verb) {
            return PolicyDecision(action: .reject(nil), rule: "no-\(verb.lowercased())", loggedBy: loggedBy)
        }
        if disconnected.contains(verb) {
            return PolicyDecision(action: .disconnect(nil), rule: "drop-\(verb.lowercased())", loggedBy: loggedBy)
        }
        if let (prefix, replacement) = rewrites[verb], command.argument.hasPrefix(prefix) {
            return PolicyDecision(action: .rewrite(argument: replacement), rule: "rewrite-\(verb.lowercased())", loggedBy: loggedBy)
        }
        return PolicyDecision(action: .forward, rule: nil, loggedBy: loggedBy)
    }

    func stripRule(forKeyword keyword: String, client: Endpoint) -> String? {
        stripped.contains(keyword) ? "strip-\(keyword.lowercased())" : nil
    }

    func replyRules(code: Int, verb: SMTPVerb?, client: Endpoint) -> [String] {
        replyLogCodes.contains(code) ? ["log-\(code)"] : []
    }
}
