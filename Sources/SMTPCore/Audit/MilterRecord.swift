/// A `milter` event (SPEC §12): one milter's verdict at one stage.
public struct MilterRecord: Hashable, Sendable {
    /// The milter's `name` in `settings.milters`.
    public var milter: String
    /// `connect`, `helo`, `mail`, `rcpt`, `data`, `header`, `eoh`, `body`, `eom`.
    public var stage: String
    /// `continue`, `accept`, `reject`, `tempfail`, `discard`, `replycode`, or `error`.
    public var verdict: String
    /// The reply the milter asked for (`SMFIR_REPLYCODE`), if any.
    public var reply: String?
    /// Modifications asked at end of message, by kind (`add-header`, `change-header`,
    /// `insert-header`, `delete-header`, `replace-body`, `change-from`, `add-rcpt`, `delete-rcpt`)
    /// with how many of each, in kind order.
    public var modifications: [Modification]

    public struct Modification: Hashable, Sendable {
        public var kind: String
        public var count: Int
        public init(kind: String, count: Int) {
            self.kind = kind
            self.count = count
        }
    }

    public init(milter: String, stage: String, verdict: String, reply: String? = nil, modifications: [Modification] = []) {
        self.milter = milter
        self.stage = stage
        self.verdict = verdict
        self.reply = reply
        self.modifications = modifications
    }
}
