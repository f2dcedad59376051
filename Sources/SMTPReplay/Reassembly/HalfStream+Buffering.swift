import struct NIOCore.ByteBuffer

/// The buffering half of `HalfStream`: placing payload in sequence space, delivering what has
/// become contiguous, reporting gaps and contradictions.
extension HalfStream {
    func streamOffset(of sequence: UInt32) -> Int64 {
        offset + Int64(Int32(bitPattern: sequence &- nextSequence))
    }

    mutating func advance(to newOffset: Int64) {
        nextSequence &+= UInt32(truncatingIfNeeded: newOffset - offset)
        offset = newOffset
    }

    /// Takes a segment's payload; returns how many of its bytes contradict an earlier copy.
    mutating func insert(
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
    mutating func insertPending(from: Int64, data: ByteBuffer, _ stats: inout ReassemblyStatistics) -> Int {
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
    mutating func drain(_ out: Output, _ events: inout [ReassemblyEvent], _ stats: inout ReassemblyStatistics) {
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

    mutating func flushPending(_ out: Output, _ events: inout [ReassemblyEvent], _ stats: inout ReassemblyStatistics) {
        while let first = pending.first {
            if first.start > offset { reportGap(upTo: first.start, out, &events, &stats) }
            drain(out, &events, &stats)
        }
        if let finOffset, finOffset > offset {
            reportGap(upTo: finOffset, out, &events, &stats)
        }
    }

    mutating func deliver(_ data: ByteBuffer, _ out: Output, _ events: inout [ReassemblyEvent], _ stats: inout ReassemblyStatistics) {
        let count = data.readableBytes
        guard count > 0 else { return }
        recent.append(PendingSegment(start: offset, data: data))
        if recent.count > Self.recentLimit { recent.removeFirst() }
        advance(to: offset + Int64(count))
        stats.deliveredBytes += Int64(count)
        events.append(ReassemblyEvent(connection: out.connection, kind: .data(out.direction, data), timestamp: out.timestamp))
    }

    mutating func reportGap(upTo end: Int64, _ out: Output, _ events: inout [ReassemblyEvent], _ stats: inout ReassemblyStatistics) {
        guard end > offset else { return }
        let count = end - offset
        advance(to: end)
        stats.gaps += 1
        stats.gapBytes += count
        if !discarding {
            events.append(ReassemblyEvent(connection: out.connection, kind: .gap(out.direction, count: Int(clamping: count)), timestamp: out.timestamp))
        }
    }

    mutating func closeIfFinReached(_ out: Output, _ events: inout [ReassemblyEvent]) {
        guard state == .open, let finOffset, offset >= finOffset, pending.isEmpty else { return }
        state = .closed
        if !discarding { events.append(ReassemblyEvent(connection: out.connection, kind: .closed(out.direction, .fin), timestamp: out.timestamp)) }
    }
}
