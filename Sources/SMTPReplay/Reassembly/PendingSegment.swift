import struct NIOCore.ByteBuffer

/// Out-of-order payload waiting for the bytes before it: `data` starts at stream offset `start`.
struct PendingSegment: Sendable {
    var start: Int64
    var data: ByteBuffer

    var end: Int64 { start + Int64(data.readableBytes) }
}
