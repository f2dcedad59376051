import PcapCapture

/// Turns TCP segments, in capture order, into the SMTP sessions they carry, cut into resend
/// steps (`CapturedConversation`): the same reassembly, detection and numbering as
/// `ReplayDriver`, so `several-sessions.pcap#2` names the same session in both.
///
///     var extractor = ConversationExtractor(source: "mail.pcap", sessionPrefix: "mail.pcap")
///     var done: [CapturedConversation] = []
///     for segment in segments { extractor.process(segment, into: &done) }
///     extractor.finish(into: &done)
///
/// A conversation is handed over as soon as it is complete: its connection finished, or it
/// reached a STARTTLS that got 220, a blind relay or a gap in the capture.
public struct ConversationExtractor {
    public let source: String
    public let sessionPrefix: String
    /// Sessions go on past a STARTTLS whose TLS the capture holds in clear text (`ConversationBuilder`).
    public let followsSTARTTLS: Bool

    private var reassembler: TCPReassembler
    private var builders: [Int: ConversationBuilder] = [:]
    private var reassembly: [ReassemblyEvent] = []

    public init(source: String, sessionPrefix: String, reassemblyBufferLimit: Int = 4 << 20, followsSTARTTLS: Bool = false) {
        self.source = source
        self.sessionPrefix = sessionPrefix
        self.followsSTARTTLS = followsSTARTTLS
        reassembler = TCPReassembler(bufferLimit: reassemblyBufferLimit)
    }

    public var reassemblyStatistics: ReassemblyStatistics { reassembler.statistics }

    public mutating func process(_ segment: TCPSegment, into conversations: inout [CapturedConversation]) {
        reassembler.process(segment, into: &reassembly)
        dispatch(into: &conversations)
    }

    /// The end of the capture: the sessions still open are complete as far as the capture goes.
    public mutating func finish(into conversations: inout [CapturedConversation]) {
        reassembler.finish(into: &reassembly)
        dispatch(into: &conversations)
        builders.removeAll()
    }

    private mutating func dispatch(into conversations: inout [CapturedConversation]) {
        guard !reassembly.isEmpty else { return }
        for event in reassembly {
            if case .opened(let info) = event.kind {
                builders[info.id] = ConversationBuilder(
                    info: info, sessionPrefix: sessionPrefix, source: source, at: event.timestamp, followsSTARTTLS: followsSTARTTLS)
            }
            guard builders.index(forKey: event.connection) != nil else { continue }
            switch builders[event.connection]!.handle(event) {
            case .keep:
                if case .finished = event.kind { builders[event.connection] = nil }
            case .release(let conversation):
                builders[event.connection] = nil
                reassembler.discard(connection: event.connection)
                if let conversation { conversations.append(conversation) }
            }
        }
        reassembly.removeAll(keepingCapacity: true)
    }
}
