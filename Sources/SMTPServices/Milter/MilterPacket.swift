import NIOCore

/// One milter protocol packet: a 4-byte big-endian length (the command byte plus the payload),
/// a command byte, the payload.
///
///     00 00 00 01 63            SMFIR_CONTINUE ('c'), no payload
public struct MilterPacket: Hashable, Sendable {
    public var command: UInt8
    public var payload: ByteBuffer

    public init(command: UInt8, payload: ByteBuffer = ByteBuffer()) {
        self.command = command
        self.payload = payload
    }

    public init(_ command: Character, payload: ByteBuffer = ByteBuffer()) {
        self.init(command: command.asciiValue!, payload: payload)
    }

    /// The largest packet this client sends or accepts (64 KiB body chunks plus a margin); a milter
    /// announcing more is broken or hostile.
    public static let maximumLength = 1 << 20

    /// Appends the packet in wire form.
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(1 + payload.readableBytes))
        buffer.writeInteger(command)
        var payload = payload
        buffer.writeBuffer(&payload)
    }
}
