import struct NIOCore.ByteBuffer

/// The first events of a connection, held until `SMTPSessionDetector` can say whether it carries
/// SMTP: both the replay driver and the resender start every connection with one.
struct DetectionWindow {
    /// Octets of each direction the detector looks at.
    static let detectionLimit = 16 * 1024
    /// Octets held in all before the detector must decide.
    static let holdLimit = 256 * 1024

    private var held: [ReassemblyEvent] = []
    private var initiatorPrefix = ByteBuffer()
    private var responderPrefix = ByteBuffer()
    private var initiatorEnded = false
    private var responderEnded = false
    private var heldBytes = 0

    /// Holds `event` and asks the detector again; nil for an `.opened` event (not held).
    mutating func observe(_ event: ReassemblyEvent) -> SMTPSessionDetector.Verdict? {
        var final = false
        switch event.kind {
        case .opened:
            return nil
        case .data(let direction, var bytes):
            heldBytes += bytes.readableBytes
            let room = Self.detectionLimit - (direction == .fromInitiator ? initiatorPrefix : responderPrefix).readableBytes
            if room > 0 {
                var part = bytes.readSlice(length: min(room, bytes.readableBytes))!
                if direction == .fromInitiator { initiatorPrefix.writeBuffer(&part) } else { responderPrefix.writeBuffer(&part) }
            }
            if heldBytes > Self.holdLimit { final = true }
        case .gap(let direction, _), .closed(let direction, _):
            if direction == .fromInitiator { initiatorEnded = true } else { responderEnded = true }
        case .overlapConflict:
            break
        case .finished:
            final = true
        }
        held.append(event)
        return initiatorPrefix.withUnsafeReadableBytes { initiator in
            responderPrefix.withUnsafeReadableBytes { responder in
                SMTPSessionDetector.detect(
                    initiator: .init(bytes: initiator, ended: final || initiatorEnded),
                    responder: .init(bytes: responder, ended: final || responderEnded))
            }
        }
    }

    /// Hands over the held events, in order, and forgets everything.
    mutating func release() -> [ReassemblyEvent] {
        defer { self = DetectionWindow() }
        return held
    }
}
