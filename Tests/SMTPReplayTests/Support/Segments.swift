import IPAddressing
import NIOCore
import PcapCapture

/// Builds TCP segments of one connection by hand (`a` is the client, `b` the server).
struct Segments {
    var a = TCPEndpoint(address: IPAddress("192.0.2.10")!, port: 40_000)
    var b = TCPEndpoint(address: IPAddress("198.51.100.25")!, port: 25)
    var time = PacketTimestamp(seconds: 1_000)

    enum Side { case a, b }

    /// The next segment's timestamp is one millisecond later than the last one's.
    mutating func segment(
        _ from: Side, seq: UInt32, ack: UInt32? = nil, flags: TCPFlags = [.ack], _ payload: String = "", missing: Int = 0
    ) -> TCPSegment {
        segment(from, seq: seq, ack: ack, flags: flags, bytes: Array(payload.utf8), missing: missing)
    }

    mutating func segment(_ from: Side, seq: UInt32, ack: UInt32? = nil, flags: TCPFlags = [.ack], bytes: [UInt8], missing: Int = 0) -> TCPSegment {
        time = time.advanced(byNanoseconds: 1_000_000)
        var flags = flags
        if ack == nil { flags.remove(.ack) }
        return TCPSegment(
            source: from == .a ? a : b, destination: from == .a ? b : a, sequence: seq, acknowledgment: ack ?? 0, flags: flags,
            payload: ByteBuffer(bytes: bytes), missingPayloadBytes: missing, timestamp: time)
    }
}
