/// What an `InterceptionScenario` observed: the client's replies, the proxy's audit log and
/// diagnostics, and what Postfix logged and delivered.
struct InterceptionOutcome: @unchecked Sendable {
    /// One client session.
    struct Dialog {
        /// One line per reply (a multiline reply's lines joined by " | "), greeting first.
        var replies: [String]
        var clientError: String
        /// In the message's subject and body.
        var token: String
        /// The message as Postfix delivered it, if it did.
        var delivered: String?
    }

    var dialogs: [Dialog] = []
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
        "dialogs: \(dialogs)\nevents: \(events)\nproxy stderr: \(proxyStandardError)\npostfix log: \(postfixLog)"
    }
}
