#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix
import NIOSSL
import SMTPCore

/// One live connection of a resend, on SwiftNIO: a `ClientBootstrap` channel with a
/// `ReplyCollector` at the end of its pipeline, and NIOSSL put in front of it when the captured
/// session starts TLS. The resend is paced by the server's replies, so the methods block the
/// calling thread until their deadline: never call them on an event loop.
///
///     let connection = try ResendConnection.connect(host: "127.0.0.1", port: 2525, timeout: 10)
///     _ = connection.send(ByteBuffer(string: "EHLO x\r\n"), until: .now() + .seconds(30))
///     var replies: [ResendReply] = []
///     let ending = connection.waitForReplies(1, have: &replies, until: .now() + .seconds(30))
final class ResendConnection {
    private let channel: any Channel
    private let collector: NIOLoopBound<ReplyCollector>
    /// `127.0.0.1:2525`, `[::1]:25`: the address connected to.
    let remoteDescription: String

    private init(channel: any Channel, collector: NIOLoopBound<ReplyCollector>) {
        self.channel = channel
        self.collector = collector
        let remote = channel.remoteAddress
        let host = remote?.ipAddress ?? "?"
        remoteDescription = host.contains(":") ? "[\(host)]:\(remote?.port ?? 0)" : "\(host):\(remote?.port ?? 0)"
    }

    deinit {
        channel.close(promise: nil)
    }

    static func connect(
        host: String, port: Int, timeout: Double, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws(SocketFailure) -> ResendConnection {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(Int64(max(0, timeout) * 1e9)))
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ReplyCollector()) }
            }
        do {
            let channel = try bootstrap.connect(host: host, port: port).wait()
            let collector = try channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: ReplyCollector.self), eventLoop: channel.eventLoop)
            }.wait()
            return ResendConnection(channel: channel, collector: collector)
        } catch {
            throw SocketFailure(connectFailure(error, host: host, port: port))
        }
    }

    /// Sends `bytes` (flushed); nil when they went out, else how the step ends: `.closed` when
    /// the server had closed or reset the connection, `.failed` for anything else (the deadline
    /// passing included).
    func send(_ bytes: ByteBuffer, until deadline: NIODeadline) -> StepEnding? {
        let channel = channel
        let write = channel.eventLoop.flatSubmit {
            Self.race(channel.writeAndFlush(bytes), deadline: deadline, on: channel.eventLoop)
        }
        do {
            try write.wait()
            return nil
        } catch is ResendTimeout {
            return .failed(SocketFailure("timed out sending \(bytes.readableBytes) octets"))
        } catch {
            return Self.isClosedByPeer(error) ? .closed : .failed(SocketFailure(Self.describe(error)))
        }
    }

    /// True when the server has closed its side (or the connection is gone).
    func serverHasClosed() -> Bool {
        let collector = collector
        return (try? channel.eventLoop.submit { collector.value.state.closed }.wait()) ?? true
    }

    /// The complete replies read so far (each handed over once).
    func takeReplies() -> [ResendReply] {
        let collector = collector
        return (try? channel.eventLoop.submit { collector.value.takeReplies() }.wait()) ?? []
    }

    /// Waits until `replies` (what the step already has) holds `count` replies, taking whatever
    /// else arrived with the last one expected.
    func waitForReplies(_ count: Int, have replies: inout [ResendReply], until deadline: NIODeadline) -> StepEnding {
        let missing = count - replies.count
        guard missing > 0 else { return .complete }
        let timedOut = !wait(until: { $0.replies.count >= missing || $0.closed || $0.failure != nil }, deadline: deadline)
        let state = takeState()
        replies += state.replies
        if replies.count >= count { return .complete }
        if timedOut { return .timedOut }
        if let failure = state.failure { return .failed(SocketFailure(failure)) }
        return .closed
    }

    /// After the last step: takes replies until the server closes or `deadline`.
    func waitForClose(have replies: inout [ResendReply], until deadline: NIODeadline) {
        _ = wait(until: { $0.closed || $0.failure != nil }, deadline: deadline)
        replies += takeReplies()
    }

    /// The client is done: half-closes (the server may still answer and close).
    func shutdownOutput() {
        try? channel.close(mode: .output).wait()
    }

    /// After the live server's 220 to STARTTLS: NIOSSL goes in front of the pipeline and the
    /// handshake runs. Bytes the server sent after its 220 are dropped first (they cannot be
    /// part of the TLS session); their count is returned with the outcome.
    func startTLS(_ tls: ResendTLS, serverHostname: String?, until deadline: NIODeadline) -> (dropped: Int, failure: SocketFailure?) {
        let channel = channel
        let collector = collector
        let context = tls.context
        let dropped = (try? channel.eventLoop.submit { collector.value.discardPartial() }.wait()) ?? 0
        let handshake = channel.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
            do {
                let handler = try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
                try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
            return collector.value.wait(
                until: { $0.tlsEstablished || $0.closed || $0.failure != nil }, deadline: deadline, on: channel.eventLoop)
        }
        do {
            try handshake.wait()
        } catch is ResendTimeout {
            return (dropped, SocketFailure("the TLS handshake timed out"))
        } catch {
            return (dropped, SocketFailure("TLS: \(Self.describe(error))"))
        }
        let state = (try? channel.eventLoop.submit { collector.value.state }.wait()) ?? ReplyCollector.State(closed: true)
        if state.tlsEstablished { return (dropped, nil) }
        if let failure = state.failure { return (dropped, SocketFailure("TLS handshake failed: \(failure)")) }
        return (dropped, SocketFailure("the server closed the connection during the TLS handshake"))
    }

    // MARK: - Waiting

    /// True when `condition` came to hold before `deadline`.
    private func wait(until condition: @escaping @Sendable (ReplyCollector.State) -> Bool, deadline: NIODeadline) -> Bool {
        let channel = channel
        let collector = collector
        let future = channel.eventLoop.flatSubmit { collector.value.wait(until: condition, deadline: deadline, on: channel.eventLoop) }
        return (try? future.wait()) != nil
    }

    /// The state, with its replies handed over.
    private func takeState() -> ReplyCollector.State {
        let collector = collector
        return (try? channel.eventLoop.submit {
            var state = collector.value.state
            state.replies = collector.value.takeReplies()
            return state
        }.wait()) ?? ReplyCollector.State(closed: true)
    }

    /// `future`, or a `ResendTimeout` failure at `deadline`, whichever comes first.
    private static func race(_ future: EventLoopFuture<Void>, deadline: NIODeadline, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        let timeout = eventLoop.scheduleTask(deadline: deadline) { promise.fail(ResendTimeout()) }
        future.whenComplete { result in
            timeout.cancel()
            promise.completeWith(result)
        }
        return promise.futureResult
    }

    // MARK: - Messages

    /// The server closed or reset the connection (ECONNRESET, EPIPE, or a channel NIO already
    /// closed for that reason).
    static func isClosedByPeer(_ error: any Error) -> Bool {
        switch error {
        case let error as IOError: return error.errnoCode == ECONNRESET || error.errnoCode == EPIPE
        case let error as ChannelError:
            switch error {
            case .ioOnClosedChannel, .alreadyClosed, .outputClosed, .eof: return true
            default: return false
            }
        default: return false
        }
    }

    /// One line for the operator: `Connection refused`, `timed out`, an NIOSSL error.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as IOError:
            return String(cString: strerror(error.errnoCode))
        case is ResendTimeout:
            return "timed out"
        case let error as ChannelError:
            switch error {
            case .connectTimeout: return "timed out"
            case .ioOnClosedChannel, .alreadyClosed, .outputClosed, .eof: return "connection closed"
            default: return "\(error)"
            }
        default:
            return "\(error)"
        }
    }

    private static func connectFailure(_ error: any Error, host: String, port: Int) -> String {
        let target = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        guard let failure = error as? NIOConnectionError else { return "cannot connect to \(target): \(describe(error))" }
        if failure.connectionErrors.isEmpty {
            let lookup = failure.dnsAError ?? failure.dnsAAAAError
            return "cannot resolve \(host): \(lookup.map(describe) ?? "no address")"
        }
        if failure.connectionErrors.count == 1, let only = failure.connectionErrors.first {
            return "cannot connect to \(target): \(describe(only.error))"
        }
        let each = failure.connectionErrors.map { "\($0.target.ipAddress ?? "?"): \(describe($0.error))" }
        return "cannot connect to \(target): " + each.joined(separator: "; ")
    }
}

@available(*, unavailable)
extension ResendConnection: Sendable {}
