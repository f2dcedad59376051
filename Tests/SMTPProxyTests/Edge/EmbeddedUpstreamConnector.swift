import NIOCore
import NIOEmbedded
@testable import SMTPProxy

/// The session's upstream legs as `EmbeddedChannel`s: a connect waits until the test accepts it
/// (the server leg becomes active, its handlers installed as the socket connector would) or
/// refuses it (the connect fails).
final class EmbeddedUpstreamConnector: UpstreamConnector, @unchecked Sendable {
    struct Request {
        let target: UpstreamTarget
        let initialize: @Sendable (any Channel) -> EventLoopFuture<Void>
        let promise: EventLoopPromise<any Channel>
    }

    let loop: EmbeddedEventLoop
    private(set) var requests: [Request] = []
    /// Every connect the sessions asked for, accepted or not.
    private(set) var attempts = 0

    init(loop: EmbeddedEventLoop) {
        self.loop = loop
    }

    func connect(
        to target: UpstreamTarget, from source: SocketAddress?, on eventLoop: any EventLoop,
        initialize: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<any Channel> {
        attempts += 1
        let promise = eventLoop.makePromise(of: (any Channel).self)
        requests.append(Request(target: target, initialize: initialize, promise: promise))
        return promise.futureResult
    }

    /// Completes the oldest connect: the returned channel is the server's end of the leg, active,
    /// with a `LegProbe` at its head.
    func accept(probe: LegProbe) throws -> EmbeddedChannel {
        let request = requests.removeFirst()
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(probe)
        try request.initialize(channel).wait()
        let address = try SocketAddress(ipAddress: "192.0.2.25", port: 25)
        channel.remoteAddress = address
        try channel.connect(to: address).wait()
        request.promise.succeed(channel)
        return channel
    }

    /// Fails the oldest connect, as an unreachable upstream does.
    func refuse(_ error: any Error) {
        requests.removeFirst().promise.fail(error)
    }
}
