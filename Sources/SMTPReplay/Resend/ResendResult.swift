import SMTPCore

/// The outcome of re-sending one captured session to a live server (`LiveResender`).
public struct ResendResult: Sendable {
    public var session: String
    public var source: String
    public var client: Endpoint
    public var server: Endpoint
    /// The target as given (`127.0.0.1:2525`, `[::1]:25`, `mx.example.org:25`).
    public var target: String
    /// The address actually connected to; nil when no connection was made.
    public var connectedTo: String?
    public var startedAt: SMTPTimestamp
    public var endedAt: SMTPTimestamp
    /// Steps in the conversation, and how many of them were sent.
    public var steps = 0
    public var stepsSent = 0
    /// Captured replies in the steps that were resent, and replies the live server sent.
    public var capturedReplies = 0
    public var receivedReplies = 0
    /// Pairs (captured, received) with the same code.
    public var sameCodes = 0
    /// Captured replies of steps never sent (the server closed first, or sending failed).
    public var notResent = 0
    public var differences: [ResendDifference] = []
    public var notes: [ResendNote] = []

    public init(conversation: CapturedConversation, target: String, at time: SMTPTimestamp) {
        session = conversation.session
        source = conversation.source
        client = conversation.client
        server = conversation.server
        self.target = target
        startedAt = time
        endedAt = time
        steps = conversation.steps.count
    }

    /// True when every captured reply had a live reply with the same code, none came extra,
    /// and the resend reached the end of the conversation.
    public var matches: Bool { differences.isEmpty && notResent == 0 && !notes.contains(where: \.isFailure) }

    public func count(_ kind: ResendDifference.Kind) -> Int {
        differences.count { $0.kind == kind }
    }
}
