import NIOCore
import NIOPosix
import SMTPFilters

/// One connection to one milter, for one SMTP session (as Postfix: libmilter keeps per-connection
/// state). Every packet exchange is bounded by the milter's `timeout`; any failure (timeout,
/// close, garbage, oversized packet) fails the exchange and every later one, and closes the
/// socket, so nothing ever waits on a broken milter.
///
/// Thread-safety: all state lives on `eventLoop`; the public methods hop there.
final class MilterConnection: @unchecked Sendable {
    let eventLoop: any EventLoop
    private let channel: any Channel
    private let timeout: TimeAmount

    // On `eventLoop` only.
    private var waiting: Waiting?
    private var failure: MilterError?

    private struct Waiting {
        var promise: EventLoopPromise<[MilterResponse]>
        var responses: [MilterResponse] = []
        var timer: Scheduled<Void>?
    }

    private init(channel: any Channel, timeout: TimeAmount) {
        self.channel = channel
        self.eventLoop = channel.eventLoop
        self.timeout = timeout
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// Connects within the milter's timeout (the failure is `unavailable`).
    static func connect(to milter: MilterSettings, on eventLoop: any EventLoop) -> EventLoopFuture<MilterConnection> {
        let timeout = timeAmount(milter.timeout)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MilterPacketDecoder()))
                    try channel.pipeline.syncOperations.addHandler(MilterConnectionHandler())
                }
            }
        let connected: EventLoopFuture<any Channel>
        switch milter.socket {
        case .inet(let host, let port): connected = bootstrap.connect(host: host, port: port)
        case .unix(let path): connected = bootstrap.connect(unixDomainSocketPath: path)
        }
        return connected.flatMapError { error in
            eventLoop.makeFailedFuture(MilterError(.unavailable, "cannot connect to \(milter.socket): \(error)"))
        }.flatMapThrowing { channel in
            let handler = try channel.pipeline.syncOperations.handler(type: MilterConnectionHandler.self)
            let connection = MilterConnection(channel: channel, timeout: timeout)
            handler.attach(connection)
            return connection
        }
    }

    /// Sends `commands` and collects the milter's answer: every packet up to and including the
    /// first final one (`MilterResponse.isFinal`); `progress` restarts the timeout and is left out.
    func exchange(_ commands: [MilterCommand]) -> EventLoopFuture<[MilterResponse]> {
        eventLoop.flatSubmit { [self] in
            if let failure { return eventLoop.makeFailedFuture(failure) }
            guard waiting == nil else {
                return eventLoop.makeFailedFuture(MilterError(.garbage, "a second exchange while one is under way"))
            }
            let promise = eventLoop.makePromise(of: [MilterResponse].self)
            waiting = Waiting(promise: promise, timer: scheduleTimeout())
            write(commands).whenFailure { [self] error in fail(error as? MilterError ?? MilterError(.closed, "\(error)")) }
            return promise.futureResult
        }
    }

    /// Sends `commands` that get no reply (macros, `abort`, `quit`, steps the milter negotiated
    /// `SMFIP_NR_*` for); completes once written, within the timeout.
    func send(_ commands: [MilterCommand]) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit { [self] in
            if let failure { return eventLoop.makeFailedFuture(failure) }
            let timer = eventLoop.scheduleTask(in: timeout) { [self] in
                fail(MilterError(.timeout, "the milter did not read what was sent within \(timeout.nanoseconds / 1_000_000) ms"))
            }
            return write(commands).always { _ in timer.cancel() }.flatMapErrorThrowing { [self] error in
                let milterError = failure ?? error as? MilterError ?? MilterError(.closed, "\(error)")
                fail(milterError)
                throw milterError
            }
        }
    }

    /// Closes the socket (after what was written went out).
    func close() {
        eventLoop.execute { [self] in
            if failure == nil { failure = MilterError(.closed, "connection closed by the client") }
            channel.close(promise: nil)
        }
    }

    private func write(_ commands: [MilterCommand]) -> EventLoopFuture<Void> {
        var buffer = channel.allocator.buffer(capacity: 64)
        for command in commands { command.packet.write(to: &buffer) }
        return channel.writeAndFlush(buffer)
    }

    private func scheduleTimeout() -> Scheduled<Void> {
        eventLoop.scheduleTask(in: timeout) { [self] in
            fail(MilterError(.timeout, "no answer within \(timeout.nanoseconds / 1_000_000) ms"))
        }
    }

    // MARK: - From the handler (on the event loop)

    func received(_ packet: MilterPacket) {
        guard failure == nil else { return }
        guard var current = waiting else {
            fail(MilterError(.garbage, "a packet '\(MilterResponse.printable(packet.command))' nobody asked for"))
            return
        }
        let response: MilterResponse
        do {
            response = try MilterResponse(packet: packet)
        } catch {
            fail(error)
            return
        }
        if case .progress = response {
            current.timer?.cancel()
            current.timer = scheduleTimeout()
            waiting = current
            return
        }
        current.responses.append(response)
        guard response.isFinal else {
            waiting = current
            return
        }
        current.timer?.cancel()
        waiting = nil
        current.promise.succeed(current.responses)
    }

    func fail(_ error: MilterError) {
        if failure == nil { failure = error }
        if let current = waiting {
            waiting = nil
            current.timer?.cancel()
            current.promise.fail(failure ?? error)
        }
        channel.close(promise: nil)
    }
}
