import NIOCore
import NIOTLS

/// The thin NIO edge of a session, one on each leg: it hands reads, writability, half-closure and
/// closure to the `ProxySession`, and passes `read()` on only while the session allows it (the
/// GlueHandler pattern: a leg reads only while the other can take writes).
final class SessionChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Side: Sendable {
        case client
        case upstream
    }

    let side: Side
    /// The client leg creates its session when it becomes active, or (`--proxy-protocol-in`) when
    /// the `ProxyProtocolDecoder` in front of it has read the connection's PROXY header.
    private let makeSession: ((SessionChannelHandler, ChannelHandlerContext, ProxyHeader?) -> ProxySession)?
    private let waitsForProxyHeader: Bool
    private(set) var session: ProxySession?
    private(set) var context: ChannelHandlerContext?
    private var pendingRead = false

    /// The client leg.
    init(waitsForProxyHeader: Bool = false, makeSession: @escaping (SessionChannelHandler, ChannelHandlerContext, ProxyHeader?) -> ProxySession) {
        side = .client
        self.waitsForProxyHeader = waitsForProxyHeader
        self.makeSession = makeSession
    }

    /// The upstream leg of an existing session.
    init(session: ProxySession) {
        side = .upstream
        self.session = session
        makeSession = nil
        waitsForProxyHeader = false
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if !waitsForProxyHeader {
            startSession(context: context, header: nil)
        }
        context.fireChannelActive()
    }

    private func startSession(context: ChannelHandlerContext, header: ProxyHeader?) {
        if session == nil, let makeSession {
            session = makeSession(self, context, header)
        }
        session?.legActive(side)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        session?.received(unwrapInboundIn(data), from: side)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        session?.flushPending()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        session?.writabilityChanged(of: side)
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if waitsForProxyHeader, session == nil, let header = event as? ProxyHeader {
            startSession(context: context, header: header)
        } else if let event = event as? ChannelEvent, event == .inputClosed {
            session?.inputClosed(on: side)
        } else if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            session?.tlsHandshakeFinished(side, failure: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        session?.legInactive(side)
        session = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        session?.legFailed(side, error: error)
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if session?.mayRead(side) ?? true {
            context.read()
        } else {
            pendingRead = true
        }
    }

    /// Issues the `read()` held back while the session did not allow it.
    func resumeReadingIfAllowed() {
        guard pendingRead, let context, session?.mayRead(side) ?? false else { return }
        pendingRead = false
        context.read()
    }
}

@available(*, unavailable)
extension SessionChannelHandler: Sendable {}
