import PcapCapture
import SMTPCore
import SMTPServices
import struct NIOCore.ByteBuffer

/// Follows one TCP connection of a replay: first detects whether it carries SMTP (holding its
/// events meanwhile), then feeds both directions through an `InspectionEngine`.
struct SessionTracker {
    enum Phase {
        case detecting
        case inspecting
        /// Not SMTP, or the session is over: the connection's remaining events are ignored.
        case done
    }

    /// What the driver should do after an event.
    struct Outcome: Equatable {
        /// Stop tracking: drop the tracker and tell the reassembler to discard the connection.
        var release = false
        /// This event showed the connection to be SMTP: an inspection began.
        var startedSession = false

        static let keep = Outcome()
        static let release = Outcome(release: true)
    }

    let info: ConnectionInfo
    let sessionID: String
    let source: String
    let policy: any InspectionPolicy
    let dryRun: Bool
    let tlsMode: TLSMode
    let consultants: ConsultantChain
    /// The chain's milters, shown each captured message at its end (`SessionTracker+Milters`).
    let milters: MilterConsultant?
    /// The copy of the message being read, for the milters.
    var messageCopy: MessageCopy?
    let openedAt: PacketTimestamp
    /// The capture time of the event being fed (consults are answered at it).
    var now = SMTPTimestamp.epoch
    var phase = Phase.detecting
    var isSMTP = false

    // Detection
    var window = DetectionWindow()

    // Inspection
    var engine: InspectionEngine?
    var roles = SMTPSessionDetector.Roles(serverDirection: .fromResponder)
    var aligner = ReplyAligner()
    var effects = InspectionEffects()
    var clientSkip = 0
    var serverSkip = 0
    var clientGone = false
    var serverGone = false
    var clientConflictReported = false
    var serverConflictReported = false

    init(info: ConnectionInfo, sessionPrefix: String, source: String, policy: any InspectionPolicy, dryRun: Bool, tlsMode: TLSMode,
        consultants: ConsultantChain = ConsultantChain(), at time: PacketTimestamp
    ) {
        self.info = info
        self.sessionID = "\(sessionPrefix)#\(info.id)"
        self.source = "\(source)#\(info.id)"
        self.policy = policy
        self.dryRun = dryRun
        self.tlsMode = tlsMode
        self.consultants = consultants
        self.milters = consultants.consultants.lazy.compactMap { $0 as? MilterConsultant }.first
        self.openedAt = time
    }

    mutating func handle(_ event: ReassemblyEvent, into output: inout [AuditEvent]) -> Outcome {
        switch phase {
        case .done:
            return .release
        case .detecting:
            var outcome = detect(event, into: &output)
            outcome.startedSession = isSMTP
            return outcome
        case .inspecting:
            return feed(event, into: &output)
        }
    }
}
