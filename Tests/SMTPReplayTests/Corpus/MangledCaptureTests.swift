import NIOCore
import PcapCapture
import SMTPCore
import SMTPReplay
import Testing

/// The engine's events do not depend on how TCP carried the bytes: every corpus capture (and every
/// capture in the repository's `captures/`), with
/// its segments duplicated, split (down to 1-byte segments), cut into overlapping pieces or
/// reordered, gives the same events as the original.
///
/// Reordering delays delivery to the later segment, so those events are compared without
/// timestamps; the other manglings keep every byte's timestamp and are compared exactly.
///
/// Two manglings reorder across directions, as a capture taken where the directions are queued
/// separately shows them (a SPAN port, `tcpdump -i any`, multi-queue NICs): the peer's segment
/// that acknowledges a run of data is moved before the run (`ackBeforeData`), or before the run's
/// first segment with the rest of the run before it (`ackBeforeFirstSegment`: the acknowledged
/// data is partly buffered behind a hole when the ACK comes). Replay must wait for the data, not
/// declare a `content-gap`, and give the same events.
/// Captures whose retransmissions contradict each other (suricata-verify__smtp-bug-5989) are only
/// duplicated: there, which copy arrives first decides the stream, by design (first copy wins).
@Suite("Mangled captures give the same events")
struct MangledCaptureTests {
    enum Mangling: String, CaseIterable, Sendable {
        case duplicated, split, overlapping, reordered, ackBeforeData, ackBeforeFirstSegment

        /// Whether events keep their exact timestamps (else they are compared without them).
        var keepsTime: Bool { self == .duplicated || self == .split || self == .overlapping }
    }

    static let cases: [(String, Mangling)] = Corpus.allCaptures.flatMap { file in Mangling.allCases.map { (file, $0) } }

    @Test(arguments: cases)
    func sameEvents(file: String, mangling: Mangling) throws {
        let segments = try StreamCollector.segments(of: Corpus.path(file))
        let original = Self.eventsBySession(segments, exact: mangling.keepsTime)
        let contradictory = original.values.joined().contains { $0.contains("tcp-overlap-conflict") }
        if contradictory && mangling != .duplicated { return }
        let totalBytes = segments.reduce(0) { $0 + $1.payload.readableBytes }
        let mangled: [TCPSegment]
        switch mangling {
        case .duplicated: mangled = segments.flatMap { $0.payload.readableBytes > 0 ? [$0, $0] : [$0] }
        case .split: mangled = segments.flatMap { Self.split($0, size: totalBytes > 200_000 ? 7 : 1) }
        case .overlapping: mangled = segments.flatMap(Self.overlappingHalves)
        case .reordered: mangled = Self.reorderRuns(segments)
        case .ackBeforeData: mangled = Self.moveAcknowledgments(segments, beforeWholeRun: true)
        case .ackBeforeFirstSegment: mangled = Self.moveAcknowledgments(segments, beforeWholeRun: false)
        }
        if mangling.keepsTime, segments.contains(where: { $0.payload.readableBytes >= 8 }) {
            #expect(mangled.count > segments.count, "the mangling changed nothing")
        }
        let replayed = Self.eventsBySession(mangled, exact: mangling.keepsTime)
        #expect(replayed.keys.sorted() == original.keys.sorted())
        for (session, events) in original {
            if !mangling.keepsTime && mangling != .reordered && events.contains(where: { $0.contains(#""content-gap""#) }) {
                // Bytes really missing (zeek__smtp_smtp-bdat-gap): which of the server's replies
                // around the hole were read before it was found depends on the order the two
                // directions were captured in. The gap itself, the commands and the messages do not.
                #expect(Self.withoutReplies(replayed[session] ?? []) == Self.withoutReplies(events), "\(session) differs after \(mangling.rawValue)")
                continue
            }
            #expect(replayed[session] == events, "\(session) differs after \(mangling.rawValue)")
        }
    }

    /// The events without `reply` events and the `unsolicited-reply` anomalies they may cause.
    static func withoutReplies(_ events: [String]) -> [String] {
        events.filter { !$0.contains(#""event":"reply""#) && !$0.contains(#""unsolicited-reply""#) && !$0.contains(#""event":"session-end""#) }
    }

    static func eventsBySession(_ segments: [TCPSegment], exact: Bool) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for event in Conversation.replay(segments) {
            result[event.session, default: []].append(exact ? event.jsonLine : event.jsonLineWithoutTime)
        }
        return result
    }

    /// Payload in pieces of `size` bytes (SYN and FIN stay on the first and last piece).
    static func split(_ segment: TCPSegment, size: Int) -> [TCPSegment] {
        guard segment.payload.readableBytes > size, segment.missingPayloadBytes == 0, !segment.flags.contains(.syn) else { return [segment] }
        var pieces: [TCPSegment] = []
        var offset = 0
        let total = segment.payload.readableBytes
        while offset < total {
            var piece = segment
            let length = min(size, total - offset)
            piece.payload = segment.payload.getSlice(at: segment.payload.readerIndex + offset, length: length)!
            piece.sequence = segment.sequence &+ UInt32(offset)
            if offset + length < total { piece.flags.remove(.fin) }
            pieces.append(piece)
            offset += length
        }
        return pieces
    }

    /// Two pieces covering the first two thirds and the last two thirds: the middle third twice.
    static func overlappingHalves(_ segment: TCPSegment) -> [TCPSegment] {
        let total = segment.payload.readableBytes
        guard total >= 3, segment.missingPayloadBytes == 0, !segment.flags.contains(.syn) else { return [segment] }
        var first = segment
        first.payload = segment.payload.getSlice(at: segment.payload.readerIndex, length: total * 2 / 3)!
        first.flags.remove(.fin)
        var second = segment
        let start = total / 3
        second.payload = segment.payload.getSlice(at: segment.payload.readerIndex + start, length: total - start)!
        second.sequence = segment.sequence &+ UInt32(start)
        return [first, second]
    }

    /// Reverses every run of consecutive data segments one direction of a connection sent (other
    /// connections' packets may sit in between). The first segment of each direction stays first
    /// (it defines where a capture without handshake starts), and SYN/FIN/RST segments stay put.
    static func reorderRuns(_ segments: [TCPSegment]) -> [TCPSegment] {
        struct Key: Hashable {
            var source: TCPEndpoint
            var destination: TCPEndpoint
        }
        var result = segments
        var seenDirection: Set<Key> = []
        var runs: [Key: [Int]] = [:]
        var lastSender: [Set<TCPEndpoint>: TCPEndpoint] = [:]
        func flush(_ key: Key) {
            guard let run = runs[key], run.count > 1 else {
                runs[key] = nil
                return
            }
            for (slot, original) in zip(run, run.reversed()) { result[slot] = segments[original] }
            runs[key] = nil
        }
        for (index, segment) in segments.enumerated() {
            let key = Key(source: segment.source, destination: segment.destination)
            let pair: Set<TCPEndpoint> = [segment.source, segment.destination]
            if let previous = lastSender[pair], previous != segment.source {
                flush(Key(source: previous, destination: segment.source))
            }
            lastSender[pair] = segment.source
            let movable = segment.payload.readableBytes > 0 && segment.flags.isDisjoint(with: [.syn, .fin, .rst]) && seenDirection.contains(key)
            seenDirection.insert(key)
            if movable {
                runs[key, default: []].append(index)
            } else {
                flush(key)
            }
        }
        for key in Array(runs.keys) { flush(key) }
        return result
    }

    /// Moves each segment that acknowledges a run of data segments the other side sent just
    /// before it (up to four, all acknowledged by it) ahead of that run: before the whole run, or
    /// (`beforeWholeRun` false, runs of two or more) between the rest of the run and its first
    /// segment. SYN and RST segments stay put. Returns the segments in their new capture order.
    /// The first segment of each direction stays where it is, ahead of the other direction's
    /// (it defines where a capture without handshake starts: nothing can be said to be missing
    /// from a direction before its first segment).
    static func moveAcknowledgments(_ segments: [TCPSegment], beforeWholeRun: Bool) -> [TCPSegment] {
        struct Key: Hashable {
            var source: TCPEndpoint
            var destination: TCPEndpoint
        }
        var result: [TCPSegment] = []
        var firstIndex: [Key: Int] = [:]
        var lastAck: [Key: UInt32] = [:]
        for var segment in segments {
            let own = Key(source: segment.source, destination: segment.destination)
            let peer = Key(source: segment.destination, destination: segment.source)
            // The last acknowledgment this direction sent before: data it covers was acknowledged
            // in its place already, and stays behind that segment.
            let previousAck = lastAck[own]
            if segment.flags.contains(.ack) { lastAck[own] = segment.acknowledgment }
            guard segment.flags.contains(.ack), segment.flags.isDisjoint(with: [.syn, .rst]), firstIndex[own] != nil,
                let peerFirst = firstIndex[peer]
            else {
                if firstIndex[own] == nil { firstIndex[own] = result.count }
                result.append(segment)
                continue
            }
            // The run just before it: data from its peer that it acknowledges whole.
            var runStart = result.count
            while runStart > peerFirst + 1, result.count - runStart < 4 {
                let candidate = result[runStart - 1]
                let end = candidate.sequence &+ UInt32(candidate.payload.readableBytes + candidate.missingPayloadBytes)
                guard candidate.source == segment.destination, candidate.destination == segment.source,
                    candidate.payload.readableBytes > 0, candidate.flags.isDisjoint(with: [.syn, .fin, .rst]),
                    Int32(bitPattern: segment.acknowledgment &- end) >= 0,
                    previousAck.map({ Int32(bitPattern: end &- $0) > 0 }) ?? true
                else { break }
                runStart -= 1
            }
            let run = Array(result[runStart...])
            if run.isEmpty || (!beforeWholeRun && run.count < 2) {
                result.append(segment)
                continue
            }
            result.removeLast(run.count)
            // Captured where it now is: its time is that of the segment it now precedes.
            segment.timestamp = beforeWholeRun ? run[0].timestamp : run[run.count - 1].timestamp
            if beforeWholeRun {
                result += [segment] + run
            } else {
                result += Array(run.dropFirst()) + [segment, run[0]]
            }
        }
        return result
    }
}
