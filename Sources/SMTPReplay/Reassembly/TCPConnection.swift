import PcapCapture

/// One connection in the reassembler's table: who opened it and the state of both directions.
struct TCPConnection: Sendable {
    let info: ConnectionInfo
    var fromInitiator: HalfStream
    var fromResponder: HalfStream
    var lastSeen: PacketTimestamp
    /// `finished` was reported; the entry stays as a tombstone so that stray late packets are not
    /// taken for a new connection (only a new SYN is).
    var finished = false
    var discarded = false

    init(info: ConnectionInfo, bufferLimit: Int, at time: PacketTimestamp) {
        self.info = info
        fromInitiator = HalfStream(bufferLimit: bufferLimit)
        fromResponder = HalfStream(bufferLimit: bufferLimit)
        lastSeen = time
    }

    func direction(of segment: TCPSegment) -> StreamDirection {
        segment.source == info.initiator ? .fromInitiator : .fromResponder
    }

    /// True when `segment` is a SYN that opens a new connection on these addresses: the old one
    /// is over, or the sender already used another initial sequence number here.
    func isReopenedBy(_ segment: TCPSegment) -> Bool {
        guard segment.flags.contains(.syn), !segment.flags.contains(.ack) else { return false }
        if finished { return true }
        let half = direction(of: segment) == .fromInitiator ? fromInitiator : fromResponder
        guard half.state != .idle else { return false }
        return half.initialSequence != segment.sequence
    }

    mutating func process(_ segment: TCPSegment, _ events: inout [ReassemblyEvent], _ stats: inout ReassemblyStatistics) {
        lastSeen = segment.timestamp
        guard !finished else {
            stats.ignoredSegments += 1
            return
        }
        let direction = direction(of: segment)
        let sending = HalfStream.Output(connection: info.id, direction: direction, timestamp: segment.timestamp)
        let receiving = HalfStream.Output(connection: info.id, direction: direction.reversed, timestamp: segment.timestamp)
        // The acknowledgment first: the sender had received those bytes before sending this.
        if segment.flags.contains(.ack) {
            if direction == .fromInitiator {
                fromResponder.acknowledged(segment.acknowledgment, receiving, &events, &stats)
            } else {
                fromInitiator.acknowledged(segment.acknowledgment, receiving, &events, &stats)
            }
        }
        if direction == .fromInitiator {
            fromInitiator.receive(segment, sending, &events, &stats)
        } else {
            fromResponder.receive(segment, sending, &events, &stats)
        }
        if segment.flags.contains(.rst) {
            // A reset ends both directions: the sender will not read what the peer still sends.
            if direction == .fromInitiator {
                fromInitiator.reset(sending, &events, &stats)
                fromResponder.reset(receiving, &events, &stats)
            } else {
                fromResponder.reset(sending, &events, &stats)
                fromInitiator.reset(receiving, &events, &stats)
            }
        }
        if fromInitiator.state == .closed && fromResponder.state == .closed {
            finish(.closed, at: segment.timestamp, &events)
        }
    }

    /// End of capture (or superseded): report what is left and finish.
    mutating func close(
        _ reason: ReassemblyEvent.FinishReason, at time: PacketTimestamp, _ events: inout [ReassemblyEvent],
        _ stats: inout ReassemblyStatistics
    ) {
        guard !finished else { return }
        fromInitiator.finishCapture(HalfStream.Output(connection: info.id, direction: .fromInitiator, timestamp: time), &events, &stats)
        fromResponder.finishCapture(HalfStream.Output(connection: info.id, direction: .fromResponder, timestamp: time), &events, &stats)
        finish(reason, at: time, &events)
    }

    mutating func discard() {
        discarded = true
        fromInitiator.discard()
        fromResponder.discard()
    }

    private mutating func finish(_ reason: ReassemblyEvent.FinishReason, at time: PacketTimestamp, _ events: inout [ReassemblyEvent]) {
        finished = true
        if !discarded {
            events.append(ReassemblyEvent(connection: info.id, kind: .finished(reason), timestamp: time))
        }
    }
}
