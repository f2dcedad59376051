import IPAddressing
import SMTPCore

/// One entry of a rule file's `rules:` list. Its match keys combine with AND; absent keys match
/// everything.
///
///     - name: legacy-sender                 # required, unique across the whole rule set
///       command: MAIL                       # verb(s) or "*"; absent = every verb
///       argument: '(?i)^FROM:<([^@>]+)@legacy\.example>'
///       client: [192.0.2.0/24, 2001:db8::/32]
///       action: rewrite
///       replace: 'FROM:<$1@example.org>'
///
/// Which question of the engine a rule answers depends on its keys (see `Kind`): a rule with
/// `ehlo-keyword` is about EHLO capabilities, one with `reply-code` about server replies, and any
/// other about client commands.
public struct Rule: Sendable, CustomStringConvertible {
    /// The question of the engine a rule answers.
    public enum Kind: Hashable, Sendable {
        /// Consulted for each client command (`RuleSet.decide`).
        case command
        /// Has `ehlo-keyword`: consulted for the keywords of EHLO replies (`RuleSet.stripRule`).
        case ehloKeyword
        /// Has `reply-code`: consulted for each server reply (`RuleSet.replyRules`).
        case replyCode
    }

    public var name: String
    /// `command:`.
    public var command: CommandMatch
    /// `argument:`.
    public var argument: ArgumentPattern?
    /// `ehlo-keyword:`, upper case.
    public var ehloKeywords: [String]
    /// `client:`; empty matches every client.
    public var clients: [CIDR]
    /// `reply-code:`.
    public var replyCodes: [ReplyCodePattern]
    public var action: RuleAction
    /// `reply:` of a `reject` or `disconnect` rule; nil lets the engine choose.
    public var reply: SMTPReply?
    /// `replace:` of a `rewrite` rule.
    public var replace: ReplacementTemplate?
    /// Where the rule was defined, when it was loaded from a file.
    public var location: RuleLocation?
    /// `service:`, `timeout:` and `on-error:` of an `action: policy` rule.
    public var policy: PolicyService?

    public init(
        name: String,
        command: CommandMatch = .any,
        argument: ArgumentPattern? = nil,
        ehloKeywords: [String] = [],
        clients: [CIDR] = [],
        replyCodes: [ReplyCodePattern] = [],
        action: RuleAction,
        reply: SMTPReply? = nil,
        replace: ReplacementTemplate? = nil,
        location: RuleLocation? = nil,
        policy: PolicyService? = nil
    ) {
        self.name = name
        self.command = command
        self.argument = argument
        self.ehloKeywords = ehloKeywords.map { $0.uppercased() }
        self.clients = clients
        self.replyCodes = replyCodes
        self.action = action
        self.reply = reply
        self.replace = replace
        self.location = location
        self.policy = policy
    }

    public var kind: Kind {
        if !ehloKeywords.isEmpty { return .ehloKeyword }
        if !replyCodes.isEmpty { return .replyCode }
        return .command
    }

    /// `no-vrfy (reject)`, or `no-vrfy (reject) at filters/20-reconnaissance.yaml:12`.
    public var description: String {
        location.map { "\(name) (\(action)) at \($0)" } ?? "\(name) (\(action))"
    }
}
