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
    private let listeners = ListenerChannels()

    /// - Parameter recording: the `--record` file, or nil.
    /// - Throws: `ProxyError.invalidTLS` when the certificate, key or CA file cannot be used.
    public init(
        configuration: ProxyConfiguration, policies: PolicyStore, auditLog: AuditLogWriter, logger: Logger,
        recording: CaptureFile? = nil
    ) throws(ProxyError) {
        let needsTLS = configuration.tlsMode == .terminate || configuration.tls.implicitListen != nil
        context = ProxyContext(
            configuration: configuration,
            policies: policies,
            auditLog: auditLog,
            limiter: ConnectionLimiter(maximum: configuration.maxConnections),
            sessionIDs: SessionIDGenerator(),
            logger: logger,
            sessions: SessionRegistry(),
            recording: recording,
            tls: needsTLS ? try TLSContexts(configuration.tls) : nil
        )
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
    }

    /// Open sessions right now.
    public var activeSessions: Int { context.sessions.count }

    /// Binds the listeners (`--listen`, and `--listen-tls` if set); returns the address of the
    /// first (port 0 picks a free port).
    @discardableResult
    public func start() async throws -> SocketAddress {
        let address = try await bind(context.configuration.listen, implicitTLS: false)
        if let implicit = context.configuration.tls.implicitListen {
            try await bind(implicit, implicitTLS: true)
        }
        return address
    }

    /// Where the implicit-TLS listener is bound (nil without `--listen-tls`).
    public var implicitTLSAddress: SocketAddress? {
        listeners.all().dropFirst().first?.localAddress
    }

    @discardableResult
    private func bind(_ listen: HostAndPort, implicitTLS: Bool) async throws -> SocketAddress {
        let context = self.context
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 4096)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.writeBufferWaterMark, value: Self.waterMark)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = SessionChannelHandler { handler, handlerContext in
                            var origin = SessionOrigin(channel: handlerContext.channel, upstream: context.configuration.upstream)
                            origin.implicitTLS = implicitTLS
                            return ProxySession(context: context, clientHandler: handler, channel: handlerContext.channel, origin: origin)
                        }
                        let pipeline = channel.pipeline.syncOperations
                        if implicitTLS, let tls = context.tls {
                            try pipeline.addHandler(tls.clientHandler())
                        }
                        try pipeline.addHandler(handler)
                    }
                }
                .bind(host: listen.host, port: listen.port)
                .get()
        } catch {
            throw ProxyError.cannotListen(address: "\(listen)", reason: "\(error)")
        }
        listeners.add(channel)
        context.logger.notice(
            "listening",
            metadata: [
                "listen": "\(channel.localAddress.map { "\($0)" } ?? "?")", "upstream": "\(context.configuration.upstream)",
                "tls": "\(implicitTLS ? "implicit" : context.configuration.tlsMode.rawValue)",
            ])
        guard let address = channel.localAddress else {
            throw ProxyError.cannotListen(address: "\(listen)", reason: "no local address")
        }
        return address
    }

    /// Serves until a graceful shutdown (SIGTERM/SIGINT through ServiceLifecycle) or `shutdown()`:
    /// then stops accepting and waits for open sessions to end.
    public func run() async throws {
        if listeners.all().isEmpty { try await start() }
        let channels = listeners.all()
        let flusher = group.next().scheduleRepeatedTask(initialDelay: .milliseconds(200), delay: .milliseconds(200)) {
            [auditLog = context.auditLog, recording = context.recording] _ in
            auditLog.flush()
            recording?.flush()
        }
        await withGracefulShutdownHandler {
            for channel in channels { try? await channel.closeFuture.get() }
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
        for channel in listeners.all() { channel.close(promise: nil) }
    }

    /// For tests: stop accepting, close everything.
    public func shutdown() async {
        stopAccepting()
        try? await group.shutdownGracefully()
        context.auditLog.flush()
        context.recording?.close()
    }
}

