import struct NIOCore.ByteBuffer

/// One record of a capture file, copied out of libpcap's buffer.
///
/// `data` holds the captured bytes (possibly fewer than `originalLength` when the capture used a
/// snapshot length); slices of it (`TCPSegment.payload`) share its storage, so payloads reach the
/// SMTP engine without another copy.
///
///     while let packet = try reader.next() {
///         print(packet.timestamp, packet.linkType, packet.data.readableBytes, packet.originalLength)
///     }
public struct CapturedPacket: Sendable {
    public var timestamp: PacketTimestamp
    public var linkType: LinkType
    public var data: ByteBuffer
    /// The length of the packet on the wire.
    public var originalLength: Int

    public init(timestamp: PacketTimestamp, linkType: LinkType, data: ByteBuffer, originalLength: Int? = nil) {
        self.timestamp = timestamp
        self.linkType = linkType
        self.data = data
        self.originalLength = originalLength ?? data.readableBytes
    }

    /// A packet from literal bytes (tests, synthesized traffic).
    public init(timestamp: PacketTimestamp = .zero, linkType: LinkType, bytes: [UInt8], originalLength: Int? = nil) {
        self.init(timestamp: timestamp, linkType: linkType, data: ByteBuffer(bytes: bytes), originalLength: originalLength)
    }

    /// True when the capture kept fewer bytes than the packet had.
    public var isTruncated: Bool { data.readableBytes < originalLength }
}
