import NIOCore

/// Sits next to the head of a leg's pipeline and records what the session asks of the socket:
/// how many `read()`s got through the session's gate, and which closes. An output half-close is
/// recorded and kept from `EmbeddedChannel` (which knows only whole closes), as a socket's
/// `shutdown(SHUT_WR)` would leave the leg readable.
final class LegProbe: ChannelOutboundHandler, @unchecked Sendable {
    typealias OutboundIn = ByteBuffer

    private(set) var reads = 0
    private(set) var closes: [CloseMode] = []

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        closes.append(mode)
        if mode == .output {
            promise?.succeed()
        } else {
            context.close(mode: mode, promise: promise)
        }
    }
}
