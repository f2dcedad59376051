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
    /// Segments of one direction held back because they acknowledge bytes of the other direction
    /// that the capture has not shown yet. Where the two directions are queued separately (a
    /// SPAN port, `tcpdump -i any`, multi-queue NICs) a peer's ACK, and the reply riding on it,
    /// can be captured a few packets before the data it acknowledges. As Zeek and Suricata do,
    /// the data is waited for: the held segments (and everything their direction sends after
    /// them, in order) are processed as soon as the acknowledged bytes have been delivered, so
    /// the engine sees the conversation in its real order. A gap is declared only when the data
    /// is really absent: once `holdTime` of capture time has passed or `holdBytes` of payload have
    /// come from either side since the wait began (bounds that do not depend on how TCP cut the
    /// bytes into segments), at a close, or at the end of the capture.
    var held: [TCPSegment] = []
    var heldFrom = StreamDirection.fromInitiator
    var holdStarted = PacketTimestamp(seconds: 0)
    var bytesWhileHolding = 0
    /// Cross-direction reordering spans microseconds to milliseconds; a second is generous.
    static let holdTime: Int64 = 1_000_000_000
    static let holdBytes = 1 << 20

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
        if !held.isEmpty {
            bytesWhileHolding += segment.payloadLength
            let waitedEnough = bytesWhileHolding > Self.holdBytes || Self.nanoseconds(from: holdStarted, to: segment.timestamp) > Self.holdTime
            if direction == heldFrom {
                held.append(segment)  // behind the held ones: a direction's order is kept
                if waitedEnough { releaseHeld(waitedEnough: true, &events, &stats) }
                return
            }
            if segment.flags.contains(.rst) {
                // A reset from the other side ends the held direction too: what it sent before
                // the reset is processed first, whatever is still missing is a gap.
                while !held.isEmpty { releaseHeld(waitedEnough: true, &events, &stats) }
            }
            handle(segment, direction, &events, &stats)
            releaseHeld(waitedEnough: waitedEnough, &events, &stats)
            return
        }
        if acknowledgesUnseenData(segment, from: direction) {
            held = [segment]
            heldFrom = direction
            holdStarted = segment.timestamp
            bytesWhileHolding = 0
            stats.heldSegments += 1
            return
        }
        handle(segment, direction, &events, &stats)
    }

    /// Whether `segment` acknowledges bytes of the other direction that have been neither
    /// delivered nor reported missing yet. Not for a SYN or RST, nor for one byte beyond the data
    /// when no FIN was seen (that may be the ACK of a FIN the capture missed).
    func acknowledgesUnseenData(_ segment: TCPSegment, from direction: StreamDirection) -> Bool {
        guard segment.flags.contains(.ack), segment.flags.isDisjoint(with: [.syn, .rst]) else { return false }
        let peer = direction == .fromInitiator ? fromResponder : fromInitiator
        guard peer.state == .open, !peer.discarding else { return false }
        var acked = peer.streamOffset(of: segment.acknowledgment)
        guard acked > peer.offset, acked - peer.offset <= HalfStream.maximumLead else { return false }
        if let fin = peer.finOffset {
            acked = min(acked, fin)
        } else if acked - peer.offset == 1 {
            return false
        }
        return acked > peer.offset
    }

    /// Processes the held segments whose acknowledged bytes have arrived. With `waitedEnough`,
    /// the first one is processed in any case, and what it acknowledges that never came is
    /// reported missing (a gap).
    private mutating func releaseHeld(waitedEnough: Bool, _ events: inout [ReassemblyEvent], _ stats: inout ReassemblyStatistics) {
        var force = waitedEnough
        while let first = held.first {
            if !force && acknowledgesUnseenData(first, from: heldFrom) { return }
            held.removeFirst()
            // The next held segment waits from its own capture time.
            holdStarted = held.first?.timestamp ?? first.timestamp
            bytesWhileHolding = 0
            if force, !finished {
                let receiving = HalfStream.Output(connection: info.id, direction: heldFrom.reversed, timestamp: first.timestamp)
                if heldFrom == .fromInitiator {
                    fromResponder.acknowledgedAfterWaiting(first.acknowledgment, receiving, &events, &stats)
                } else {
                    fromInitiator.acknowledgedAfterWaiting(first.acknowledgment, receiving, &events, &stats)
                }
                force = false
            }
            handle(first, heldFrom, &events, &stats)
        }
    }

    static func nanoseconds(from start: PacketTimestamp, to end: PacketTimestamp) -> Int64 {
        (end.seconds - start.seconds) * 1_000_000_000 + Int64(end.nanoseconds) - Int64(start.nanoseconds)
    }

    private mutating func handle(
        _ segment: TCPSegment, _ direction: StreamDirection, _ events: inout [ReassemblyEvent], _ stats: inout ReassemblyStatistics
    ) {
        guard !finished else {
            stats.ignoredSegments += 1
            return
        }
        let sending = HalfStream.Output(connection: info.id, direction: direction, timestamp: segment.timestamp)
        let receiving = HalfStream.Output(connection: info.id, direction: direction.reversed, timestamp: segment.timestamp)
        // The acknowledgment first: the sender had received those bytes before sending this.
        // Not while the other direction's segments are held back: the bytes it acknowledges may
        // be among them, and must not be declared missing before they are processed.
        if segment.flags.contains(.ack), held.isEmpty || heldFrom == direction {
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
        while !held.isEmpty { releaseHeld(waitedEnough: true, &events, &stats) }
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
