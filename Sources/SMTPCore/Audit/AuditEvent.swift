/// One line of the audit log (SPEC §5). Every event has `ts`, `session` and `event`; the payload
/// depends on the kind. The live proxy and the replayer produce the same events for the same
/// bytes; only `ts` and `source` tell them apart.
public struct AuditEvent: Hashable, Sendable {
    public var timestamp: SMTPTimestamp
    public var session: String
    public var kind: Kind

    public init(timestamp: SMTPTimestamp, session: String, kind: Kind) {
        self.timestamp = timestamp
        self.session = session
        self.kind = kind
    }

    public enum Kind: Hashable, Sendable {
        case sessionStart(client: Endpoint, server: Endpoint, source: String)
        case command(CommandRecord)
        case reply(ReplyRecord)
        case message(MessageRecord)
        case anomaly(AnomalyKind, detail: String)
        case sessionEnd(SessionSummary)
        /// A client-limit rule was hit (SPEC §10).
        case limit(LimitRecord)
        /// A milter's verdict (SPEC §12).
        case milter(MilterRecord)
    }

    /// The `event` field.
    public var name: String { nameLiteral.description }

    /// `name` as the audit log writes it, without making a String.
    var nameLiteral: StaticString {
        switch kind {
        case .sessionStart: "session-start"
        case .command: "command"
        case .reply: "reply"
        case .message: "message"
        case .anomaly: "anomaly"
        case .sessionEnd: "session-end"
        case .limit: "limit"
        case .milter: "milter"
        }
    }
}

/// A `command` event: what the client sent and what the proxy did with it.
public struct CommandRecord: Hashable, Sendable {
    /// Upper case; `AUTH-RESPONSE` for a line answering a `334` challenge.
    public var verb: String
    /// The argument as received (lossy UTF-8), AUTH secrets redacted.
    public var arg: String
    /// `forward`, `reject`, `rewrite`, `disconnect`, or `would-reject`… under `--dry-run`.
    public var action: String
    /// The rule that decided (for a command only `log` rules matched: the first of them).
    public var rule: String?
    /// The line sent upstream when it differs from the one received.
    public var forwarded: String?
    /// A policy service's answer (`action: policy` rules, SPEC §11); not in the line when nil.
    public var policy: String?

    public init(verb: String, arg: String, action: String, rule: String? = nil, forwarded: String? = nil, policy: String? = nil) {
        self.verb = verb
        self.arg = arg
        self.action = action
        self.rule = rule
        self.forwarded = forwarded
        self.policy = policy
    }
}

/// A `reply` event: a reply as the client received it.
public struct ReplyRecord: Hashable, Sendable {
    public struct StrippedKeyword: Hashable, Sendable {
        public var keyword: String
        /// The `strip` rule, or `--tls strip`.
        public var rule: String
        public init(keyword: String, rule: String) {
            self.keyword = keyword
            self.rule = rule
        }
    }

    public var code: Int
    /// The first line's text.
    public var text: String
    /// The verb it answers: `greeting` for the server's greeting, `.` for the end of data, nil when
    /// unsolicited.
    public var forVerb: String?
    /// True when the proxy made it.
    public var local: Bool
    /// `log` rules that matched the reply (`reply-code`).
    public var rules: [String]
    /// EHLO keywords removed from this reply (`would-strip` under `--dry-run`: listed, not removed).
    public var stripped: [StrippedKeyword]
    public var dryRun: Bool
    /// How long the upstream took to answer: from the proxy forwarding the command (for BDAT its
    /// command line, for `.` the end of data) to the reply, in the driver's time (capture time in
    /// replay). Nil for the greeting, unsolicited replies and the proxy's own replies. Not in the
    /// JSON line (it would differ between a live session and its replay); `--metrics` reports it.
    public var latency: Duration?

    public init(
        code: Int, text: String, forVerb: String?, local: Bool, rules: [String] = [],
        stripped: [StrippedKeyword] = [], dryRun: Bool = false, latency: Duration? = nil
    ) {
        self.code = code
        self.text = text
        self.forVerb = forVerb
        self.local = local
        self.rules = rules
        self.stripped = stripped
        self.dryRun = dryRun
        self.latency = latency
    }
}

/// A `message` event: one mail transaction that reached its end of data (DATA or BDAT LAST).
public struct MessageRecord: Hashable, Sendable {
    public var mailFrom: String
    public var rcptTo: [String]
    /// Message octets as forwarded (after any normalisation, without the final `.CRLF`).
    public var size: Int
    /// The reply code that closed the transaction (nil when none came).
    public var result: Int?
    public var messageID: String?
    public var subject: String?

    public init(mailFrom: String, rcptTo: [String], size: Int, result: Int?, messageID: String?, subject: String?) {
        self.mailFrom = mailFrom
        self.rcptTo = rcptTo
        self.size = size
        self.result = result
        self.messageID = messageID
        self.subject = subject
    }
}

/// A `session-end` event.
public struct SessionSummary: Hashable, Sendable {
    public var reason: String
    public var bytesFromClient: Int
    public var bytesFromServer: Int
    public var commands: Int
    public var messages: Int
    /// `none`, `passthrough` (blind relay after STARTTLS), `stripped` or `terminated`.
    public var tls: String

    public init(reason: String, bytesFromClient: Int, bytesFromServer: Int, commands: Int, messages: Int, tls: String) {
        self.reason = reason
        self.bytesFromClient = bytesFromClient
        self.bytesFromServer = bytesFromServer
        self.commands = commands
        self.messages = messages
        self.tls = tls
    }
}
