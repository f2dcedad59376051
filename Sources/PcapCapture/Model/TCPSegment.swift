import struct NIOCore.ByteBuffer

/// A TCP segment decoded from a captured packet.
///
///     if case .segment(let segment) = PacketDecoder.decode(packet) {
///         print(segment.source, "→", segment.destination, segment.flags, segment.sequence, segment.payload.readableBytes)
///     }
///
/// `payload` shares the packet's storage. When the capture cut the packet short (snapshot
/// length), `payload` holds what was captured and `missingPayloadBytes` how many bytes the IP
/// header says followed: the reassembler reports them as a gap instead of losing its place.
public struct TCPSegment: Sendable {
    public var source: TCPEndpoint
    public var destination: TCPEndpoint
    public var sequence: UInt32
    public var acknowledgment: UInt32
    public var flags: TCPFlags
    public var window: UInt16
    public var payload: ByteBuffer
    public var missingPayloadBytes: Int
    public var timestamp: PacketTimestamp

    public init(
        source: TCPEndpoint, destination: TCPEndpoint, sequence: UInt32, acknowledgment: UInt32 = 0,
        flags: TCPFlags = [.ack], window: UInt16 = 65_535, payload: ByteBuffer = ByteBuffer(), missingPayloadBytes: Int = 0,
        timestamp: PacketTimestamp = .zero
    ) {
        self.source = source
        self.destination = destination
        self.sequence = sequence
        self.acknowledgment = acknowledgment
        self.flags = flags
        self.window = window
        self.payload = payload
        self.missingPayloadBytes = missingPayloadBytes
        self.timestamp = timestamp
    }

    /// Payload octets the segment covers in sequence space, captured or not.
    public var payloadLength: Int { payload.readableBytes + missingPayloadBytes }
}
