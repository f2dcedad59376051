import Logging
import NIOConcurrencyHelpers
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
    private let metricsServer = NIOLockedValueBox<MetricsServer?>(nil)
    /// Flushes the audit log (and the recording) every 200 ms from `start()` on.
    private let flusher = NIOLockedValueBox<RepeatedTask?>(nil)

    /// - Parameter recording: the `--record` file, or nil.
    /// - Parameter metrics: the metrics to serve with `--metrics` (made here when nil); given when
    ///   the rules' consultants (milters, policy services) report to them too.
    /// - Throws: `ProxyError.invalidTLS` when the certificate, key or CA file cannot be used.
    public init(
        configuration: ProxyConfiguration, policies: PolicyStore, auditLog: AuditLogWriter, logger: Logger,
        recording: CaptureFile? = nil, metrics: ProxyMetrics? = nil
    ) throws(ProxyError) {
        if configuration.xclient, configuration.proxyProtocol.outgoing != nil {
            throw .unsupported("--xclient and --proxy-protocol-out exclude each other (each tells the upstream who the client is)")
        }
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
            tls: needsTLS ? try TLSContexts(configuration.tls) : nil,
            metrics: configuration.metrics == nil ? nil : (metrics ?? ProxyMetrics())
        )
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
        if configuration.auditFailure == .tempfail {
            policies.refuseTransactions(whileFailing: auditLog.health)
        }
        if let metrics = context.metrics {
            auditLog.health.observe { metrics.auditWriteError() }
            recording?.health.observe { metrics.recordingWriteError() }
        }
        context.metrics?.beforeEachScrape { metrics in metrics.refreshClientLimitKeys(from: policies.rules.consultants) }
    }

    /// Open sessions right now.
    public var activeSessions: Int { context.sessions.count }

    /// The `--metrics` counters (nil without `--metrics`).
    public var metrics: ProxyMetrics? { context.metrics }

    /// Where `GET /metrics` is served, once `start()` has bound it.
    public var metricsAddress: SocketAddress? { metricsServer.withLockedValue { $0?.localAddress } }

    /// Binds the metrics listener (with `--metrics`), then the SMTP listeners (`--listen`, and
    /// `--listen-tls` if set); returns the address of the first SMTP listener (port 0 picks a
    /// free port). Metrics come first so that they can be scraped as soon as the proxy says it
    /// is listening.
    @discardableResult
    public func start() async throws -> SocketAddress {
        if context.configuration.interception != .off { try LoopGuard.checkHostAddresses() }
        if let address = context.configuration.metrics, let metrics = context.metrics {
            let server = try await MetricsServer.start(on: address, group: group, metrics: metrics)
            metricsServer.withLockedValue { $0 = server }
        }
        let address = try await bind(context.configuration.listen, implicitTLS: false)
        if let implicit = context.configuration.tls.implicitListen {
            try await bind(implicit, implicitTLS: true)
        }
        let task = group.next().scheduleRepeatedTask(initialDelay: .milliseconds(200), delay: .milliseconds(200)) {
            [auditLog = context.auditLog, recording = context.recording] _ in
            auditLog.flush()
            recording?.flush()
        }
        flusher.withLockedValue { $0 = task }
        return address
    }

    private func stopFlusher() {
        flusher.withLockedValue { task in
            task?.cancel()
            task = nil
        }
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
                .childChannelOption(.writeBufferWaterMark, value: Self.waterMark)
                .serverChannelInitializer { channel in
                    context.configuration.interception == .transparent
                        ? TransparentSocket.prepareListener(channel) : channel.eventLoop.makeSucceededVoidFuture()
                }
                .childChannelInitializer { channel in
                    SessionOrigin.make(for: channel, configuration: context.configuration).flatMapThrowing { base in
                        let proxyProtocol = context.configuration.proxyProtocol
                        let handler = SessionChannelHandler(waitsForProxyHeader: proxyProtocol.acceptsHeader) { handler, handlerContext, header in
                            var origin = base
                            if let header { origin.apply(header) }
                            origin.implicitTLS = implicitTLS
                            if origin.refusal == nil, context.refusesNewSessions { origin.refusal = .auditLogFailing }
                            return ProxySession(context: context, clientHandler: handler, channel: handlerContext.channel, origin: origin)
                        }
                        let pipeline = channel.pipeline.syncOperations
                        // The PROXY header comes first on the wire, before any TLS.
                        if proxyProtocol.acceptsHeader {
                            try pipeline.addHandler(ProxyProtocolDecoder(settings: proxyProtocol, logger: context.logger))
                        }
                        if implicitTLS, let tls = context.tls {
                            try pipeline.addHandler(ServerHelloObserver())
                            try pipeline.addHandler(tls.clientHandler())
                        }
                        try pipeline.addHandler(handler)
                    }
                }
                .bind(host: listen.host, port: listen.port)
                .get()
        } catch {
            await stopMetrics()
            throw ProxyError.cannotListen(address: "\(listen)", reason: "\(error)")
        }
        listeners.add(channel)
        var metadata: Logger.Metadata = [
            "listen": "\(channel.localAddress.map { "\($0)" } ?? "?")", "upstream": "\(context.configuration.upstreamDescription)",
            "tls": "\(implicitTLS ? "implicit" : context.configuration.tlsMode.rawValue)",
        ]
        if let metricsAddress { metadata["metrics"] = "\(metricsAddress)" }
        context.logger.notice("listening", metadata: metadata)
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
        await withGracefulShutdownHandler {
            // A listener that closed with an error is closed all the same: what follows is the drain.
            for channel in channels { try? await channel.closeFuture.get() }
        } onGracefulShutdown: { [self] in
            stopAccepting()
        }
        context.logger.notice("draining", metadata: ["sessions": "\(context.sessions.count)"])
        try? await context.sessions.drained(on: group.next()).get()  // fails only when the loop is gone: nothing left to wait for
        stopFlusher()
        context.auditLog.flush()
        context.recording?.close()
        await stopMetrics()
        // The loops stop either way; the audit log and the recording are flushed and closed by
        // their own checked calls, not by this.
        try? await group.shutdownGracefully()
    }

    /// Stops accepting new clients; open sessions go on.
    public func stopAccepting() {
        for channel in listeners.all() { channel.close(promise: nil) }
    }

    /// Closes the metrics listener. `run()` does it last, so the counts stay scrapable while
    /// sessions drain.
    private func stopMetrics() async {
        let server = metricsServer.withLockedValue { server in
            defer { server = nil }
            return server
        }
        await server?.close()
    }

    /// For tests: stop accepting, close everything.
    public func shutdown() async {
        stopAccepting()
        stopFlusher()
        await stopMetrics()
        // The loops stop either way; the audit log and the recording are flushed and closed by
        // their own checked calls, not by this.
        try? await group.shutdownGracefully()
        context.auditLog.flush()
        context.recording?.close()
    }
}

