import NIOCore

/// Frames the milter's byte stream into packets; a length of 0 or above
/// `MilterPacket.maximumLength` is an error (never buffered).
struct MilterPacketDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = MilterPacket

    var maximumLength = MilterPacket.maximumLength

    mutating func decode(buffer: inout ByteBuffer) throws -> MilterPacket? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length >= 1 else { throw MilterError(.garbage, "a packet of length 0") }
        guard length <= maximumLength else {
            throw MilterError(.oversized, "a packet of \(length) octets (at most \(maximumLength))")
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        let command = buffer.readInteger(as: UInt8.self)!
        return MilterPacket(command: command, payload: buffer.readSlice(length: Int(length) - 1)!)
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> MilterPacket? {
        try decode(buffer: &buffer)
    }
}
