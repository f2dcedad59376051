import Logging
import NIOCore

/// The first handler of a client connection under `--proxy-protocol-in`: it admits only peers of
/// `--proxy-protocol-from`, reads exactly one PROXY header before any SMTP parsing, announces it
/// with the `ProxyHeader` as a user inbound event (the `SessionChannelHandler` behind it creates
/// the session then), and leaves the pipeline.
///
/// - A refused peer, a malformed or oversized header, a connection that ends inside the header, or
///   one that has not sent a whole header within `headerTimeout`: closed, a warning logged, nothing
///   sent to anyone (no session exists yet, so no upstream connection either).
/// - Bytes that came in the same read as the header are held and passed on at the next `read()`
///   that reaches this handler, that is, once the session lets the client leg read (its upstream is
///   connected), so the engine sees them exactly as if they had arrived a moment later. An end of
///   input behind them is passed on after them.
final class ProxyProtocolDecoder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer

    private enum State {
        case awaitingHeader
        /// Header delivered; bytes read behind it wait for the session to read.
        case holding(ByteBuffer, inputClosed: Bool)
        case done
        /// Closed for a bad peer or header: whatever else arrives is dropped.
        case refused
    }

    private let settings: ProxyProtocolSettings
    private let logger: Logger
    private var parser: ProxyHeaderParser
    private var state = State.awaitingHeader
    private var timeout: Scheduled<Void>?

    init(settings: ProxyProtocolSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        parser = ProxyHeaderParser(maximumV2Length: settings.maximumV2Length)
    }

    func channelActive(context: ChannelHandlerContext) {
        let peer = context.channel.remoteAddress
        context.fireChannelActive()
        guard settings.allows(peer) else {
            refuse(context: context, "peer not in --proxy-protocol-from (\(settings.allowedPeers.map(\.description).joined(separator: ", ")))")
            return
        }
        let loop = context.eventLoop.assumeIsolated()
        timeout = loop.scheduleTask(in: settings.headerTimeout) { [self] in
            guard case .awaitingHeader = state else { return }
            refuse(context: context, "no complete PROXY header within \(settings.headerTimeout.nanoseconds / 1_000_000) ms")
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        switch state {
        case .refused:
            return
        case .done:
            context.fireChannelRead(data)
        case .holding(var held, let inputClosed):
            var bytes = bytes
            held.writeBuffer(&bytes)
            state = .holding(held, inputClosed: inputClosed)
        case .awaitingHeader:
            do {
                guard case .complete(let header, let remainder) = try parser.feed(bytes) else { return }
                timeout?.cancel()
                state = .holding(remainder, inputClosed: false)
                logger.debug("PROXY header", metadata: ["peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")", "header": "\(header)"])
                context.fireUserInboundEventTriggered(header)
                if remainder.readableBytes == 0 { leave(context: context) }
            } catch {
                refuse(context: context, "\(error)")
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .done = state { context.fireChannelReadComplete() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let closed = event as? ChannelEvent, closed == .inputClosed else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch state {
        case .awaitingHeader: refuse(context: context, "\(ProxyHeaderError.truncated(received: parser.bufferedByteCount))")
        case .holding(let held, _): state = .holding(held, inputClosed: true)
        case .done: context.fireUserInboundEventTriggered(event)
        case .refused: return
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        guard case .holding = state else {
            context.read()
            return
        }
        // Pass the read on before leaving: a removed handler's context no longer forwards it.
        context.read()
        leave(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeout?.cancel()
    }

    /// Passes on what was held and removes this handler.
    private func leave(context: ChannelHandlerContext) {
        guard case .holding(let held, let inputClosed) = state else { return }
        state = .done
        if held.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(held))
            context.fireChannelReadComplete()
        }
        if inputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func refuse(context: ChannelHandlerContext, _ reason: String) {
        guard case .awaitingHeader = state else { return }
        state = .refused
        timeout?.cancel()
        logger.warning(
            "PROXY protocol: connection refused",
            metadata: ["peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")", "reason": "\(reason)"])
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ProxyProtocolDecoder: Sendable {}
