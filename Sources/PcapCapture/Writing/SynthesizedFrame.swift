/// One Ethernet frame made by `TCPStreamSynthesizer`, ready for `PcapWriter.write(_:)`.
public struct SynthesizedFrame: Hashable, Sendable {
    public var timestamp: PacketTimestamp
    /// Ethernet + IPv4/IPv6 + TCP headers and payload.
    public var bytes: [UInt8]

    public init(timestamp: PacketTimestamp, bytes: [UInt8]) {
        self.timestamp = timestamp
        self.bytes = bytes
    }
}
