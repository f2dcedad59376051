/// What an `InterceptionScenario` observed: the client's replies, the proxy's audit log and
/// diagnostics, and what Postfix logged and delivered.
struct InterceptionOutcome: @unchecked Sendable {
    var replies: [String]
    var clientError: String
    var token: String
    var sessionEnded = false
    var delivered: String?
    var proxyExit: Int32?
    var events: [[String: Any]] = []
    var postfixLog = ""
    var proxyStandardError = ""

    /// Postfix's `disconnect from …` lines (with the per-command counts: `vrfy=1` would show
    /// that a VRFY reached it).
    var postfixDisconnects: [Substring] {
        postfixLog.split(separator: "\n").filter { $0.contains("disconnect from") }
    }

    var summary: String {
        "replies: \(replies)\nclient stderr: \(clientError)\nevents: \(events)\nproxy stderr: \(proxyStandardError)\npostfix log: \(postfixLog)"
    }
}
