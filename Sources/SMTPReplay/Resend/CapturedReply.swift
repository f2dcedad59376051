/// A reply of the captured server, numbered in the session, with the command it answers.
public struct CapturedReply: Hashable, Sendable {
    public var reply: ResendReply
    /// Its place among the session's captured replies, from 0 (the greeting).
    public var index: Int
    /// The verb it answers as the engine paired it (`greeting`, `.` for the end of data, `EHLO`…);
    /// nil when unsolicited or unknown.
    public var verb: String?
    /// The command line it answers as the audit log shows it (`RCPT TO:<bob@example.org>`,
    /// `AUTH PLAIN [redacted]`, `(greeting)`, `(end of data)`); nil when unknown.
    public var command: String?

    public init(reply: ResendReply, index: Int, verb: String? = nil, command: String? = nil) {
        self.reply = reply
        self.index = index
        self.verb = verb
        self.command = command
    }
}
