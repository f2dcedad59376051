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

    private(set) var state = State.idle
    /// The ISN when a SYN was seen.
    private(set) var initialSequence: UInt32?
    /// The sequence number of the next byte to deliver.
    private(set) var nextSequence: UInt32 = 0
    /// The stream offset of `nextSequence` (bytes delivered + bytes reported missing).
    private(set) var offset: Int64 = 0
    private var pending: [PendingSegment] = []
    private(set) var pendingBytes = 0
    private var finOffset: Int64?
    /// The highest offset the peer acknowledged (for gaps found at the end).
    private var acknowledgedOffset: Int64?
    /// The last segments delivered (newest last): a retransmission is compared with them.
    private var recent: [PendingSegment] = []
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

    // MARK: - Internals

    private func streamOffset(of sequence: UInt32) -> Int64 {
        offset + Int64(Int32(bitPattern: sequence &- nextSequence))
    }

    private mutating func advance(to newOffset: Int64) {
        nextSequence &+= UInt32(truncatingIfNeeded: newOffset - offset)
        offset = newOffset
    }

    /// Takes a segment's payload; returns how many of its bytes contradict an earlier copy.
    private mutating func insert(
        start: Int64, payload: ByteBuffer, missing: Int, _ out: Output, _ events: inout [ReassemblyEvent],
        _ stats: inout ReassemblyStatistics
    ) -> Int {
        let captured = Int64(payload.readableBytes)
        var from = start
        var data = payload
        let end = start + captured
        var conflicts = 0
        if from < offset {
            // Bytes delivered already: the first copy stays; say so when this one differs.
            conflicts += Self.differences(data, at: from, comparedWith: recent)
            let skip = Int(min(end, offset) - from)
            stats.duplicateBytes += Int64(skip)
            if end <= offset { return conflicts }
            data.moveReaderIndex(forwardBy: skip)
            from = offset
        }
        if pending.isEmpty && from == offset {
            // The common case: the next bytes, nothing buffered.
            deliver(data, out, &events, &stats)
            if missing > 0 {
                // The capture cut this packet short (snapshot length): the rest is lost for good.
                reportGap(upTo: offset + Int64(missing), out, &events, &stats)
            }
            return conflicts
        }
        conflicts += insertPending(from: from, data: data, &stats)
        while pendingBytes > bufferLimit, let first = pending.first {
            if first.start > offset {
                reportGap(upTo: first.start, out, &events, &stats)
            }
            drain(out, &events, &stats)
        }
        return conflicts
    }

    /// Adds the parts of `data` (at `from`) that no buffered segment covers yet; returns how many
    /// of the covered bytes differ from the buffered copy.
    private mutating func insertPending(from: Int64, data: ByteBuffer, _ stats: inout ReassemblyStatistics) -> Int {
        let end = from + Int64(data.readableBytes)
        // Fast path: after everything buffered.
        if pending.isEmpty || pending[pending.count - 1].end <= from {
            pending.append(PendingSegment(start: from, data: data))
            pendingBytes += data.readableBytes
            return 0
        }
        // First buffered segment that ends after `from`.
        var low = 0
        var high = pending.count
        while low < high {
            let middle = (low + high) / 2
            if pending[middle].end <= from { low = middle + 1 } else { high = middle }
        }
        var index = low
        var cursor = from
        var conflicts = 0
        while cursor < end {
            if index < pending.count, pending[index].start <= cursor {
                // Covered by an earlier copy: that copy wins.
                let coveredEnd = min(pending[index].end, end)
                conflicts += Self.differences(data, at: from, comparedWith: CollectionOfOne(pending[index]))
                stats.duplicateBytes += coveredEnd - cursor
                cursor = coveredEnd
                index += 1
                continue
            }
            let pieceEnd = index < pending.count ? min(pending[index].start, end) : end
            let slice = data.getSlice(at: data.readerIndex + Int(cursor - from), length: Int(pieceEnd - cursor))!
            pending.insert(PendingSegment(start: cursor, data: slice), at: index)
            pendingBytes += slice.readableBytes
            index += 1
            cursor = pieceEnd
        }
        return conflicts
    }

    /// How many bytes of `data` (at stream offset `start`) differ from the overlapping parts of `segments`.
    static func differences(_ data: ByteBuffer, at start: Int64, comparedWith segments: some Collection<PendingSegment>) -> Int {
        var count = 0
        let end = start + Int64(data.readableBytes)
        for segment in segments where segment.start < end && segment.end > start {
            let overlapStart = max(start, segment.start)
            let overlapEnd = min(end, segment.end)
            data.withUnsafeReadableBytes { new in
                segment.data.withUnsafeReadableBytes { old in
                    var position = overlapStart
                    while position < overlapEnd {
                        if new[Int(position - start)] != old[Int(position - segment.start)] { count += 1 }
                        position += 1
                    }
                }
            }
        }
        return count
    }

    /// Delivers buffered segments that have become contiguous.
    private mutating func drain(_ out: Output, _ events: inout [ReassemblyEvent], _ stats: inout ReassemblyStatistics) {
        var consumed = 0
        while consumed < pending.count, pending[consumed].start <= offset {
            var segment = pending[consumed]
            pendingBytes -= segment.data.readableBytes
            consumed += 1
            if segment.end <= offset {
                stats.duplicateBytes += Int64(segment.data.readableBytes)
                continue
            }
            if segment.start < offset { segment.data.moveReaderIndex(forwardBy: Int(offset - segment.start)) }
            deliver(segment.data, out, &events, &stats)
        }
        if consumed > 0 { pending.removeFirst(consumed) }
    }

    private mutating func flushPending(_ out: Output, _ events: inout [ReassemblyEvent], _ stats: inout ReassemblyStatistics) {
        while let first = pending.first {
            if first.start > offset { reportGap(upTo: first.start, out, &events, &stats) }
            drain(out, &events, &stats)
        }
        if let finOffset, finOffset > offset {
            reportGap(upTo: finOffset, out, &events, &stats)
        }
    }

    private mutating func deliver(_ data: ByteBuffer, _ out: Output, _ events: inout [ReassemblyEvent], _ stats: inout ReassemblyStatistics) {
        let count = data.readableBytes
        guard count > 0 else { return }
        recent.append(PendingSegment(start: offset, data: data))
        if recent.count > Self.recentLimit { recent.removeFirst() }
        advance(to: offset + Int64(count))
        stats.deliveredBytes += Int64(count)
        events.append(ReassemblyEvent(connection: out.connection, kind: .data(out.direction, data), timestamp: out.timestamp))
    }

    private mutating func reportGap(upTo end: Int64, _ out: Output, _ events: inout [ReassemblyEvent], _ stats: inout ReassemblyStatistics) {
        guard end > offset else { return }
        let count = end - offset
        advance(to: end)
        stats.gaps += 1
        stats.gapBytes += count
        if !discarding {
            events.append(ReassemblyEvent(connection: out.connection, kind: .gap(out.direction, count: Int(clamping: count)), timestamp: out.timestamp))
        }
    }

    private mutating func closeIfFinReached(_ out: Output, _ events: inout [ReassemblyEvent]) {
        guard state == .open, let finOffset, offset >= finOffset, pending.isEmpty else { return }
        state = .closed
        if !discarding { events.append(ReassemblyEvent(connection: out.connection, kind: .closed(out.direction, .fin), timestamp: out.timestamp)) }
    }
}
