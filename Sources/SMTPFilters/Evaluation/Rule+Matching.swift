import IPAddressing
import SMTPCore

extension Rule {
    /// Whether the client matches `client:`. A client that is not a numeric address (nil) matches
    /// only rules without `client:`.
    func matches(client: IPAddress?) -> Bool {
        guard !clients.isEmpty else { return true }
        guard let client else { return false }
        return clients.contains { $0.contains(client) }
    }

    /// The decision of a command rule for `command`, or nil when the rule does not match it.
    /// A `log` rule that matches gives `.forward`: the caller records it and goes on. Throws when
    /// the `argument:` regex fails while matching.
    func evaluate(_ command: SMTPCommand, client: IPAddress?) throws -> PolicyDecision.Action? {
        guard self.command.matches(command.verb), matches(client: client) else { return nil }
        if action == .rewrite {
            guard let argument, let replace,
                let rewritten = try argument.replacingFirstMatch(in: command.argument, with: replace)
            else { return nil }
            return .rewrite(argument: rewritten)
        }
        if let argument, try !argument.matches(command.argument) { return nil }
        switch action {
        case .log, .strip, .policy: return .forward
        case .allow: return .allow
        case .reject: return .reject(reply)
        case .disconnect: return .disconnect(reply)
        case .rewrite: return nil  // handled above
        }
    }

    /// Whether this `ehlo-keyword` rule covers `keyword` for this client.
    func matches(keyword: String, client: IPAddress?) -> Bool {
        ehloKeywords.contains(keyword.uppercased()) && matches(client: client)
    }

    /// Whether this `reply-code` rule covers a reply to `verb` for this client.
    func matches(replyCode code: Int, verb: SMTPVerb?, client: IPAddress?) -> Bool {
        replyCodes.contains { $0.matches(code) } && command.matches(verb) && matches(client: client)
    }
}
