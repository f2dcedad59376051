// nio-splice LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT [THREADS]
//
// A SwiftNIO byte splicer that inspects nothing: each accepted client gets an upstream
// connection and the two channels are glued (what one reads, the other writes; a leg reads only
// while the other can take writes). The same NIO configuration as `smtp-inspect proxy`
// (TCP_NODELAY, half-closure, the proxy's write watermarks, one flush per read batch), without the
// engine, the rules and the audit log. `scripts/compare --floor` runs it as a fourth path: the
// part of the proxy's CPU that is SwiftNIO's, not inspection's.
import NIOCore
import NIOPosix

final class GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    private var needsFlush = false

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        partner?.resumeRead()  // the upstream's greeting waits until the client leg is glued
    }
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    private var partnerWritable: Bool { partner?.context?.channel.isWritable ?? false }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let partner, let other = partner.context else { return }
        other.write(data, promise: nil)
        partner.needsFlush = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard let partner, partner.needsFlush else { return }
        partner.needsFlush = false
        partner.context?.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.resumeRead() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            partner?.context?.close(mode: .output, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.context?.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if partnerWritable { context.read() } else { pendingRead = true }
    }

    func resumeRead() {
        guard pendingRead, let context else { return }
        pendingRead = false
        context.read()
    }
}


let arguments = CommandLine.arguments
guard arguments.count >= 4, let listenPort = Int(arguments[1]), let upstreamPort = Int(arguments[3]) else {
    print("usage: nio-splice LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT [THREADS]")
    exit(2)
}
let upstream = try SocketAddress(ipAddress: arguments[2], port: upstreamPort)
let threads = arguments.count > 4 ? Int(arguments[4]) ?? System.coreCount : System.coreCount
let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let waterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 32 * 1024, high: 256 * 1024)

let server = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 4096)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.allowRemoteHalfClosure, value: true)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelOption(.writeBufferWaterMark, value: waterMark)
    .childChannelInitializer { client in
        let clientGlue = GlueHandler()
        let upstreamGlue = GlueHandler()
        clientGlue.partner = upstreamGlue
        upstreamGlue.partner = clientGlue
        let bound = NIOLoopBound((clientGlue, upstreamGlue), eventLoop: client.eventLoop)
        return ClientBootstrap(group: client.eventLoop)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: waterMark)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(bound.value.1)
                }
            }
            .connect(to: upstream)
            .flatMapThrowing { _ in
                try client.pipeline.syncOperations.addHandler(bound.value.0)
            }
    }
    .bind(host: "127.0.0.1", port: listenPort)
    .wait()
print("nio-splice listening on \(server.localAddress!)")
try server.closeFuture.wait()
