import NIOCore
import NIOTLS
import SMTPCore

/// The inbound end of a resend connection: cuts the live server's bytes into replies
/// (`ReplyParser`, as the capture's were cut) and wakes whoever waits for a number of them, for
/// the end of the server's stream, or for the TLS handshake. Lives on the channel's event loop;
/// `ResendConnection` reaches it from the resend's thread through the loop.
final class ReplyCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// Where the connection stands, for a waiter's condition.
    struct State: Sendable {
        /// Complete replies not yet taken.
        var replies: [ResendReply] = []
        /// The server closed its side (or the connection is gone).
        var closed = false
        /// Reading or the TLS handshake failed: why.
        var failure: String?
        var tlsEstablished = false
    }

    private(set) var state = State()
    private var inbound = ByteBuffer()
    private var parser = ReplyParser()
    private var waiter: (condition: (State) -> Bool, promise: EventLoopPromise<Void>, timeout: Scheduled<Void>)?

    /// The replies read so far (they are handed over once).
    func takeReplies() -> [ResendReply] {
        defer { state.replies.removeAll() }
        return state.replies
    }

    /// Bytes read after the last complete reply (a reply still arriving, or text after a 220 to
    /// STARTTLS, which must not be read as part of the TLS session); they are dropped.
    func discardPartial() -> Int {
        defer { inbound.clear() }
        return inbound.readableBytes
    }

    /// Succeeds once `condition` holds, fails with `ResendTimeout` at `deadline`.
    func wait(until condition: @escaping (State) -> Bool, deadline: NIODeadline, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        precondition(waiter == nil, "one waiter at a time")
        if condition(state) { return eventLoop.makeSucceededVoidFuture() }
        let promise = eventLoop.makePromise(of: Void.self)
        let timeout = eventLoop.scheduleTask(deadline: deadline) { [self] in
            guard let waiter else { return }
            self.waiter = nil
            waiter.promise.fail(ResendTimeout())
        }
        waiter = (condition, promise, timeout)
        return promise.futureResult
    }

    private func changed() {
        guard let current = waiter, current.condition(state) else { return }
        waiter = nil
        current.timeout.cancel()
        current.promise.succeed()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        inbound.writeBuffer(&bytes)
        while let item = parser.next(from: &inbound) { state.replies.append(ResendReply(item)) }
        inbound.discardReadBytes()
        changed()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            state.closed = true
        case TLSUserEvent.handshakeCompleted:
            state.tlsEstablished = true
        default:
            break
        }
        changed()
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.closed = true
        changed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset is the server ending the connection (it closed with our bytes unread), as EOF is.
        if ResendConnection.isClosedByPeer(error) {
            state.closed = true
        } else if state.failure == nil {
            state.failure = ResendConnection.describe(error)
        }
        changed()
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ReplyCollector: Sendable {}

/// A wait that reached its deadline.
struct ResendTimeout: Error {}
