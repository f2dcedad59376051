import PcapCapture
import struct NIOCore.ByteBuffer

/// The reassembly state of one direction of a TCP connection.
///
/// Sequence numbers are mapped to 64-bit stream offsets relative to the next expected byte
/// (`offset` ↔ `nextSequence`), with the signed 32-bit difference of RFC 1982 serial-number
/// arithmetic, so wrap-around at 2^32 needs no special case.
///
/// Policy (the same in every path):
/// - **First received wins.** Bytes already delivered are never replaced (they are gone), and a
///   segment that overlaps buffered out-of-order bytes only contributes the bytes not yet
///   buffered. This is what Wireshark's `follow tcp` and Zeek keep, and what IDS reassembly
///   defaults to. (Stacks differ: Linux keeps its queued copy for partial overlaps but lets a
///   later segment that covers queued ones completely replace them; a "last wins" stack would
///   deliver a different stream. We document the choice rather than guess the target's stack.)
///   A retransmission that contradicts the copy kept (compared with buffered bytes and the last
///   `recentLimit` delivered segments) is reported as an `overlapConflict`: someone is playing
///   with the reassembly, or the capture was edited.
/// - **Gaps are reported, never filled.** A hole becomes a gap when the peer acknowledges bytes
///   beyond it (they were received, so the capture missed them), when more than
///   `bufferLimit` bytes wait behind it, or when the direction ends (FIN/RST/end of capture).
/// - **FIN** closes the direction once every byte before it was delivered or reported missing;
///   **RST** closes at once.
struct HalfStream: Sendable {
    enum State: Sendable {
        case idle
        case open
        case closed
    }

    var state = State.idle
    /// The ISN when a SYN was seen.
    private(set) var initialSequence: UInt32?
    /// The sequence number of the next byte to deliver.
    var nextSequence: UInt32 = 0
    /// The stream offset of `nextSequence` (bytes delivered + bytes reported missing).
    var offset: Int64 = 0
    var pending: [PendingSegment] = []
    var pendingBytes = 0
    var finOffset: Int64?
    /// The highest offset the peer acknowledged (for gaps found at the end).
    var acknowledgedOffset: Int64?
    /// The last segments delivered (newest last): a retransmission is compared with them.
    var recent: [PendingSegment] = []
    static let recentLimit = 8
    /// Payload is not wanted (the connection is not SMTP): only sequence state is kept.
    var discarding = false
    let bufferLimit: Int

    /// Segments further ahead than this are not believed (a TCP window is at most 1 GiB).
    static let maximumLead: Int64 = 1 << 30

    init(bufferLimit: Int) {
        self.bufferLimit = bufferLimit
    }

    var hasSeenData: Bool { state != .idle && (offset > 0 || !pending.isEmpty) }

    /// Where events go: the connection and direction they carry.
    struct Output {
        var connection: Int
        var direction: StreamDirection
        var timestamp: PacketTimestamp
    }

    // MARK: - Inputs

    /// A segment sent in this direction.
    mutating func receive(
        _ segment: TCPSegment, _ out: Output, _ events: inout [ReassemblyEvent], _ stats: inout ReassemblyStatistics
    ) {
        guard state != .closed else {
            if segment.payloadLength > 0 { stats.ignoredSegments += 1 }
            return
        }
        var dataSequence = segment.sequence
        if segment.flags.contains(.syn) {
            dataSequence &+= 1
            if state == .idle {
                initialSequence = segment.sequence
                nextSequence = dataSequence
                state = .open
            }
        } else if state == .idle {
            // Mid-stream start: the first segment seen defines the stream's beginning.
            nextSequence = dataSequence
            state = .open
        }
        let start = streamOffset(of: dataSequence)
        let length = Int64(segment.payloadLength)
        guard start - offset <= Self.maximumLead else {
            stats.ignoredSegments += 1
            return
        }
        if segment.flags.contains(.fin), finOffset == nil, start + length >= offset {
            finOffset = start + length
        }
        if length > 0 {
            if discarding {
                // Keep the sequence state moving without keeping bytes.
                if start + length > offset { advance(to: start + length) }
            } else {
                let conflicts = insert(start: start, payload: segment.payload, missing: segment.missingPayloadBytes, out, &events, &stats)
                if conflicts > 0 {
                    stats.conflictingBytes += Int64(conflicts)
                    events.append(ReassemblyEvent(connection: out.connection, kind: .overlapConflict(out.direction, count: conflicts), timestamp: out.timestamp))
                }
            }
        }
        drain(out, &events, &stats)
        closeIfFinReached(out, &events)
    }

    /// The peer acknowledged `acknowledgment`: a hole it covers will never be filled.
    mutating func acknowledged(
        _ acknowledgment: UInt32, _ out: Output, _ events: inout [ReassemblyEvent], _ stats: inout ReassemblyStatistics
    ) {
        guard state == .open else { return }
        var acked = streamOffset(of: acknowledgment)
        guard acked > offset, acked - offset <= Self.maximumLead else { return }
        if let finOffset, acked > finOffset { acked = finOffset }
        if acked > (acknowledgedOffset ?? 0) { acknowledgedOffset = acked }
        // Only a hole followed by buffered data is resolved now; a hole at the tail may still be
        // a segment captured after its ACK, and is settled at the end.
        while !pending.isEmpty, acked > offset, pending[0].start > offset {
            reportGap(upTo: min(pending[0].start, acked), out, &events, &stats)
            drain(out, &events, &stats)
        }
        closeIfFinReached(out, &events)
    }

    /// The peer's acknowledgment of `acknowledgment` was held back while the bytes it covers were
    /// waited for, and they did not come: every hole up to it is a gap now, at the tail too.
    mutating func acknowledgedAfterWaiting(
        _ acknowledgment: UInt32, _ out: Output, _ events: inout [ReassemblyEvent], _ stats: inout ReassemblyStatistics
    ) {
        guard state == .open, !discarding else { return }
        var acked = streamOffset(of: acknowledgment)
        guard acked > offset, acked - offset <= Self.maximumLead else { return }
        if let finOffset, acked > finOffset { acked = finOffset }
        if acked > (acknowledgedOffset ?? 0) { acknowledgedOffset = acked }
        // A hole before buffered bytes is missing whole (a sender does not skip sequence space),
        // also past the acknowledgment: one gap, as tshark marks it.
        while acked > offset {
            reportGap(upTo: pending.first?.start ?? acked, out, &events, &stats)
            drain(out, &events, &stats)
        }
        closeIfFinReached(out, &events)
    }

    /// RST: what is buffered is delivered (behind gaps), then the direction closes.
    mutating func reset(_ out: Output, _ events: inout [ReassemblyEvent], _ stats: inout ReassemblyStatistics) {
        guard state != .closed else { return }
        if state == .open { flushPending(out, &events, &stats) }
        state = .closed
        if !discarding { events.append(ReassemblyEvent(connection: out.connection, kind: .closed(out.direction, .reset), timestamp: out.timestamp)) }
    }

    /// The capture ended: holes become gaps, buffered data is delivered, and bytes the peer
    /// acknowledged that never appeared are reported as a final gap. The direction is not
    /// "closed": the connection simply was not seen to its end.
    mutating func finishCapture(_ out: Output, _ events: inout [ReassemblyEvent], _ stats: inout ReassemblyStatistics) {
        guard state == .open else { return }
        flushPending(out, &events, &stats)
        if let acked = acknowledgedOffset, acked > offset, !discarding {
            // Without a FIN an acknowledgment one past the data may be an uncaptured FIN.
            let missing = acked - offset - (finOffset == nil && acked - offset == 1 ? 1 : 0)
            if missing > 0 { reportGap(upTo: offset + missing, out, &events, &stats) }
        }
        closeIfFinReached(out, &events)
    }

    /// Stops keeping payload (the connection is not wanted).
    mutating func discard() {
        discarding = true
        recent.removeAll()
        pending.removeAll()
        pendingBytes = 0
    }
}
