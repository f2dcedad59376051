import PcapCapture

/// Reads a capture file and hands over each SMTP session as a `CapturedConversation`, as soon as
/// it is complete (so a resend can run while the rest of the file is read).
///
///     let reader = ConversationReader(path: "captures/several-sessions.pcap")
///     let summary = try reader.run { conversation in print(conversation.session, conversation.steps.count) }
///
/// Session ids are `<file name>#<n>` as in `CaptureReplay`. A damaged file throws `ReplayError`
/// after handing over the sessions read before the damage.
public struct ConversationReader: Sendable {
    public let path: String
    public var reassemblyBufferLimit = 4 << 20
    /// Go on past a STARTTLS when the capture holds the clear text inside TLS (for a resend that
    /// can start TLS itself, `LiveResender.tls`); otherwise a session ends at its STARTTLS.
    public var followsSTARTTLS = false

    public init(path: String) {
        self.path = path
    }

    @discardableResult
    public func run(each: (CapturedConversation) -> Void) throws(ReplayError) -> ReplaySummary {
        let replay = CaptureReplay(path: path)
        var extractor = ConversationExtractor(
            source: replay.sourceName, sessionPrefix: replay.sessionPrefix, reassemblyBufferLimit: reassemblyBufferLimit,
            followsSTARTTLS: followsSTARTTLS)
        var done: [CapturedConversation] = []
        let outcome = try CapturePacketLoop(path: path).run { segment, summary in
            extractor.process(segment, into: &done)
            if !done.isEmpty {
                summary.smtpSessions += done.count
                done.forEach(each)
                done.removeAll(keepingCapacity: true)
            }
        }
        var summary = outcome.summary
        extractor.finish(into: &done)
        summary.smtpSessions += done.count
        done.forEach(each)
        summary.reassembly = extractor.reassemblyStatistics
        if let damage = outcome.damage { throw ReplayError(damage, summary: summary) }
        return summary
    }

    /// Every conversation of the file at once (tests, small files).
    public func conversations() throws(ReplayError) -> [CapturedConversation] {
        var all: [CapturedConversation] = []
        try run { all.append($0) }
        return all
    }
}
