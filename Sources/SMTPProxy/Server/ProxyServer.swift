import Logging
import NIOCore
import NIOPosix
import SMTPCore
import ServiceLifecycle

/// The listener: accepts clients, gives each a `ProxySession`, and drains on shutdown.
///
///     let server = ProxyServer(configuration: config, policies: store, auditLog: log, logger: logger)
///     let address = try await server.start()      // bound (port 0 picks a free port)
///     try await server.run()                      // until graceful shutdown (SIGTERM)
public final class ProxyServer: Service, Sendable {
    static let waterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 32 * 1024, high: 256 * 1024)

    private let context: ProxyContext
    private let group: MultiThreadedEventLoopGroup
    private let serverChannel = NIOLockedValueBoxChannel()

    /// - Parameter recording: the `--record` file, or nil.
    public init(
        configuration: ProxyConfiguration, policies: PolicyStore, auditLog: AuditLogWriter, logger: Logger,
        recording: CaptureFile? = nil
    ) {
        context = ProxyContext(
            configuration: configuration,
            policies: policies,
            auditLog: auditLog,
            limiter: ConnectionLimiter(maximum: configuration.maxConnections),
            sessionIDs: SessionIDGenerator(),
            logger: logger,
            sessions: SessionRegistry(),
            recording: recording
        )
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
    }

    /// Open sessions right now.
    public var activeSessions: Int { context.sessions.count }

    /// Binds the listener; returns the address it is bound to.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let context = self.context
        let listen = context.configuration.listen
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 4096)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.writeBufferWaterMark, value: Self.waterMark)
                .serverChannelInitializer { channel in
                    context.configuration.interception == .transparent
                        ? TransparentSocket.prepareListener(channel) : channel.eventLoop.makeSucceededVoidFuture()
                }
                .childChannelInitializer { channel in
                    SessionOrigin.make(for: channel, configuration: context.configuration).flatMapThrowing { origin in
                        let handler = SessionChannelHandler { handler, handlerContext in
                            ProxySession(context: context, clientHandler: handler, channel: handlerContext.channel, origin: origin)
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .bind(host: listen.host, port: listen.port)
                .get()
        } catch {
            throw ProxyError.cannotListen(address: "\(listen)", reason: "\(error)")
        }
        serverChannel.set(channel)
        context.logger.notice(
            "listening",
            metadata: ["listen": "\(channel.localAddress.map { "\($0)" } ?? "?")", "upstream": "\(context.configuration.upstreamDescription)"])
        return channel.localAddress!
    }

    /// Serves until a graceful shutdown (SIGTERM/SIGINT through ServiceLifecycle) or `shutdown()`:
    /// then stops accepting and waits for open sessions to end.
    public func run() async throws {
        if serverChannel.get() == nil { try await start() }
        guard let channel = serverChannel.get() else { return }
        let flusher = group.next().scheduleRepeatedTask(initialDelay: .milliseconds(200), delay: .milliseconds(200)) {
            [auditLog = context.auditLog, recording = context.recording] _ in
            auditLog.flush()
            recording?.flush()
        }
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: { [self] in
            stopAccepting()
        }
        context.logger.notice("draining", metadata: ["sessions": "\(context.sessions.count)"])
        try? await context.sessions.drained(on: group.next()).get()
        flusher.cancel()
        context.auditLog.flush()
        context.recording?.close()
        try? await group.shutdownGracefully()
    }

    /// Stops accepting new clients; open sessions go on.
    public func stopAccepting() {
        serverChannel.get()?.close(promise: nil)
    }

    /// For tests: stop accepting, close everything.
    public func shutdown() async {
        stopAccepting()
        try? await group.shutdownGracefully()
        context.auditLog.flush()
        context.recording?.close()
    }
}

import NIOConcurrencyHelpers

/// The bound listener channel, set once.
final class NIOLockedValueBoxChannel: Sendable {
    private let box = NIOLockedValueBox<(any Channel)?>(nil)
    func set(_ channel: any Channel) { box.withLockedValue { $0 = channel } }
    func get() -> (any Channel)? { box.withLockedValue { $0 } }
}
