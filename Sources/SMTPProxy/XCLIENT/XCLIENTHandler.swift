import NIOCore
import SMTPCore

/// `proxy --xclient` (SPEC §11): on the upstream leg, before the session sees anything, it takes
/// the upstream's greeting, sends the proxy's own `EHLO` and, when the reply offers XCLIENT,
/// `XCLIENT ADDR=… PORT=… NAME=[UNAVAILABLE] PROTO=ESMTP`; the upstream's answer (its new
/// greeting, now for the real client) is passed on as the session's greeting and the handler
/// removes itself. The client never sees the exchange. When XCLIENT is not offered or is refused,
/// the original greeting is passed on instead and `report` hears `.unavailable`.
///
/// Install it in front of the session's handler on the upstream channel:
///
///     [XCLIENTHandler, SessionChannelHandler]
///
/// What the session writes meanwhile (pipelined client commands) waits here, in order, and goes
/// out once the exchange is over.
final class XCLIENTHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingGreeting
        case awaitingEHLO(greeting: SMTPReply)
        case awaitingXCLIENT(greeting: SMTPReply, command: String)
        case done
    }

    private let client: SocketAddress
    private let report: (XCLIENTOutcome) -> Void
    private var state = State.awaitingGreeting
    private var parser = ReplyParser()
    private var buffer = ByteBuffer()
    private var heldWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var flushHeld = false

    /// - Parameters:
    ///   - client: the client the upstream should see.
    ///   - report: told once how the exchange ended (on the channel's event loop).
    init(client: SocketAddress, report: @escaping (XCLIENTOutcome) -> Void) {
        self.client = client
        self.report = report
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .done = state else {
            var bytes = unwrapInboundIn(data)
            buffer.writeBuffer(&bytes)
            process(context: context)
            return
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard case .done = state else {
            // The session has seen nothing yet; keep reading whatever it allows.
            context.read()
            return
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .done = state else {
            heldWrites.append((unwrapOutboundIn(data), promise))
            return
        }
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        guard case .done = state else {
            flushHeld = true
            return
        }
        context.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .done = state {} else {
            finish(context: context, passing: nil, outcome: .unavailable(reason: "the upstream closed the connection during the XCLIENT exchange"))
        }
        context.fireChannelInactive()
    }

    // MARK: - The exchange

    private func process(context: ChannelHandlerContext) {
        while true {
            if case .done = state { return }
            guard let item = parser.next(from: &buffer) else { return }
            guard case .reply(let reply, _) = item else {
                // Not SMTP as expected: the session sees the greeting (if any) and the bytes as
                // they came, and deals with them as with any upstream.
                var raw = ByteBuffer()
                if case .malformed(_, var line) = item { raw.writeBuffer(&line) }
                raw.writeBuffer(&buffer)
                buffer = raw
                return finish(context: context, passing: greetingSoFar, outcome: .unavailable(reason: "malformed reply from the upstream"))
            }
            switch state {
            case .awaitingGreeting:
                guard reply.code == 220 else {
                    return finish(context: context, passing: reply, outcome: .unavailable(reason: "the upstream greeted with \(reply.code)"))
                }
                state = .awaitingEHLO(greeting: reply)
                send("EHLO " + ehloName(context), context: context)
            case .awaitingEHLO(let greeting):
                guard reply.code == 250, let offered = XCLIENTCommand.offeredAttributes(in: reply.lines) else {
                    return finish(context: context, passing: greeting, outcome: .unavailable(reason: "the upstream's EHLO does not offer XCLIENT"))
                }
                guard let command = XCLIENTCommand.line(client: client, offered: offered) else {
                    return finish(context: context, passing: greeting, outcome: .unavailable(reason: "the upstream's XCLIENT does not take ADDR"))
                }
                state = .awaitingXCLIENT(greeting: greeting, command: command)
                send(command, context: context)
            case .awaitingXCLIENT(let greeting, let command):
                guard reply.code == 220 else {
                    let text = "\(reply.code) \(reply.text)"
                    return finish(context: context, passing: greeting, outcome: .unavailable(reason: "the upstream refused XCLIENT: \(text)"))
                }
                finish(context: context, passing: reply, outcome: .applied(command: command))
            case .done:
                return
            }
        }
    }

    private var greetingSoFar: SMTPReply? {
        switch state {
        case .awaitingEHLO(let greeting), .awaitingXCLIENT(let greeting, _): greeting
        case .awaitingGreeting, .done: nil
        }
    }

    private func send(_ line: String, context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: line.utf8.count + 2)
        out.writeString(line)
        out.writeString("\r\n")
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    /// The proxy's own address as an EHLO address literal (`[127.0.0.1]`, `[IPv6:::1]`).
    private func ehloName(_ context: ChannelHandlerContext) -> String {
        switch context.channel.localAddress {
        case .some(let address) where address.ipAddress != nil:
            if case .v6 = address { return "[IPv6:\(address.ipAddress!)]" }
            return "[\(address.ipAddress!)]"
        default:
            return "[127.0.0.1]"
        }
    }

    /// Ends the exchange: `greeting` (its exact bytes) goes to the session as the upstream's
    /// first reply, then whatever followed it; held writes go out; the handler leaves.
    private func finish(context: ChannelHandlerContext, passing greeting: SMTPReply?, outcome: XCLIENTOutcome) {
        state = .done
        report(outcome)
        let passes = greeting != nil || buffer.readableBytes > 0
        if let greeting {
            context.fireChannelRead(wrapInboundOut(greeting.wireBytes))
        }
        if buffer.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(buffer))
            buffer = ByteBuffer()
        }
        if passes { context.fireChannelReadComplete() }
        for (bytes, promise) in heldWrites { context.write(wrapOutboundOut(bytes), promise: promise) }
        heldWrites.removeAll()
        if flushHeld { context.flush() }
        if context.channel.isActive {
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
}

@available(*, unavailable)
extension XCLIENTHandler: Sendable {}
