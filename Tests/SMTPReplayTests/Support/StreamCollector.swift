import NIOCore
import PcapCapture
import SMTPReplay

/// Runs segments through a `TCPReassembler` and keeps every connection's byte streams and events.
struct StreamCollector {
    struct Connection: Equatable {
        var info: ConnectionInfo
        var fromInitiator: [UInt8] = []
        var fromResponder: [UInt8] = []
        /// Each gap: its direction, where it falls in that direction's delivered bytes, its size.
        var gaps: [(direction: StreamDirection, at: Int, count: Int)] = []
        var closed: [StreamDirection] = []
        var conflicts: [(StreamDirection, Int)] = []
        var finished: ReassemblyEvent.FinishReason?

        static func == (lhs: Connection, rhs: Connection) -> Bool {
            lhs.info == rhs.info && lhs.fromInitiator == rhs.fromInitiator && lhs.fromResponder == rhs.fromResponder
                && lhs.gaps.map(\.count) == rhs.gaps.map(\.count) && lhs.closed == rhs.closed && lhs.finished == rhs.finished
        }
    }

    var reassembler: TCPReassembler
    var connections: [Int: Connection] = [:]
    private var events: [ReassemblyEvent] = []

    init(bufferLimit: Int = 4 << 20) {
        reassembler = TCPReassembler(bufferLimit: bufferLimit)
    }

    mutating func process(_ segment: TCPSegment) {
        reassembler.process(segment, into: &events)
        absorb()
    }

    mutating func finish() {
        reassembler.finish(into: &events)
        absorb()
    }

    private mutating func absorb() {
        for event in events {
            switch event.kind {
            case .opened(let info):
                connections[info.id] = Connection(info: info)
            case .data(let direction, let bytes):
                if direction == .fromInitiator {
                    connections[event.connection]!.fromInitiator += Array(bytes.readableBytesView)
                } else {
                    connections[event.connection]!.fromResponder += Array(bytes.readableBytesView)
                }
            case .gap(let direction, let count):
                let at = direction == .fromInitiator
                    ? connections[event.connection]!.fromInitiator.count : connections[event.connection]!.fromResponder.count
                connections[event.connection]!.gaps.append((direction, at, count))
            case .overlapConflict(let direction, let count):
                connections[event.connection]!.conflicts.append((direction, count))
            case .closed(let direction, _):
                connections[event.connection]!.closed.append(direction)
            case .finished(let reason):
                connections[event.connection]!.finished = reason
            }
        }
        events.removeAll()
    }

    /// A direction's bytes with tshark's marker where we reported a gap: `follow` writes
    /// `[N bytes missing in capture file]` and a NUL in place of missing bytes.
    static func withTsharkGapMarkers(_ bytes: [UInt8], gaps: [(at: Int, count: Int)]) -> [UInt8] {
        var result: [UInt8] = []
        var cursor = 0
        for gap in gaps {
            result += bytes[cursor..<gap.at]
            result += Array("[\(gap.count) bytes missing in capture file]".utf8) + [0]
            cursor = gap.at
        }
        return result + bytes[cursor...]
    }

    /// Every TCP segment of a capture file, in order (stops quietly at damage).
    static func segments(of path: String) throws -> [TCPSegment] {
        let reader = try PcapReader.open(path: path)
        var segments: [TCPSegment] = []
        while true {
            let packet: CapturedPacket?
            do { packet = try reader.next() } catch { break }
            guard let packet else { break }
            if case .segment(let segment) = PacketDecoder.decode(packet) { segments.append(segment) }
        }
        return segments
    }

    /// The reassembled connections of a capture file.
    static func connections(of path: String) throws -> [Int: Connection] {
        var collector = StreamCollector()
        for segment in try segments(of: path) { collector.process(segment) }
        collector.finish()
        return collector.connections
    }
}
