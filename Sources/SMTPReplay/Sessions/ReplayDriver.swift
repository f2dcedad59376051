import PcapCapture
import SMTPCore

/// Turns TCP segments, in capture order, into the audit events of the SMTP sessions they carry.
///
///     var driver = ReplayDriver(source: "mail.pcap", sessionPrefix: "mail.pcap", options: ReplayOptions(policy: rules))
///     var events: [AuditEvent] = []
///     for segment in segments {
///         driver.process(segment, into: &events)
///     }
///     driver.finish(into: &events)        // sessions still open at the end get their session-end
///     for event in events { print(event.jsonLine) }
///
/// Each TCP connection is reassembled (`TCPReassembler`), recognised as SMTP by its content on any
/// port (`SMTPSessionDetector`, which also skips HTTP CONNECT and SOCKS tunnel set-ups), and fed
/// through its own `InspectionEngine` with the capture's timestamps. Session ids are
/// `<sessionPrefix>#<n>` and `source` is `<source>#<n>`, where `n` is the connection's number in
/// the capture (Wireshark's `tcp.stream`). A reassembly gap ends the session's replay with a
/// `content-gap` anomaly: the engine cannot resynchronise in the middle of a stream.
/// Connections that are not SMTP cost only their sequence state once recognised.
public struct ReplayDriver {
    public let source: String
    public let sessionPrefix: String
    public let options: ReplayOptions

    private var reassembler: TCPReassembler
    private var trackers: [Int: SessionTracker] = [:]
    private var reassembly: [ReassemblyEvent] = []
    public private(set) var smtpSessions = 0

    public init(source: String, sessionPrefix: String, options: ReplayOptions = ReplayOptions()) {
        self.source = source
        self.sessionPrefix = sessionPrefix
        self.options = options
        reassembler = TCPReassembler(bufferLimit: options.reassemblyBufferLimit)
    }

    public var reassemblyStatistics: ReassemblyStatistics { reassembler.statistics }

    /// One segment; appends the events it completes to `events`.
    public mutating func process(_ segment: TCPSegment, into events: inout [AuditEvent]) {
        reassembler.process(segment, into: &reassembly)
        dispatch(into: &events)
    }

    /// The end of the capture: open connections report their holes and every session ends.
    public mutating func finish(into events: inout [AuditEvent]) {
        reassembler.finish(into: &reassembly)
        dispatch(into: &events)
        trackers.removeAll()
    }

    private mutating func dispatch(into events: inout [AuditEvent]) {
        guard !reassembly.isEmpty else { return }
        for event in reassembly {
            if case .opened(let info) = event.kind {
                trackers[info.id] = SessionTracker(
                    info: info, sessionPrefix: sessionPrefix, source: source, policy: options.policy, dryRun: options.dryRun,
                    tlsMode: options.tlsMode, consultants: options.consultants, at: event.timestamp)
            }
            guard trackers.index(forKey: event.connection) != nil else { continue }
            let outcome = trackers[event.connection]!.handle(event, into: &events)
            if outcome.startedSession { smtpSessions += 1 }
            if outcome.release {
                trackers[event.connection] = nil
                reassembler.discard(connection: event.connection)
            } else if case .finished = event.kind {
                trackers[event.connection] = nil
            }
        }
        reassembly.removeAll(keepingCapacity: true)
    }
}
