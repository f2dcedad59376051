import Logging
import NIOCore
import NIOPosix
import SMTPCore

/// One client connection and its upstream connection, on one event loop, driving one
/// `InspectionEngine`. It only moves bytes and carries out the engine's effects: every protocol
/// decision is the engine's, so the live proxy and the replayer cannot disagree.
final class ProxySession {
    private let context: ProxyContext
    private let eventLoop: any EventLoop
    private var engine: InspectionEngine
    private var effects = InspectionEffects()
    /// The session's logger, with its id and client as metadata: made on first use (most sessions
    /// never log, and setting metadata on a log handler costs at every session under churn).
    private lazy var logger: Logger = {
        var logger = context.logger
        logger[metadataKey: "session"] = "\(engine.configuration.sessionID)"
        logger[metadataKey: "client"] = "\(engine.configuration.client)"
        return logger
    }()

    private let clientHandler: SessionChannelHandler
    private var upstreamHandler: SessionChannelHandler?
    private var upstreamChannel: (any Channel)?

    private var clientOpen = true
    private var upstreamOpen = false
    private var upstreamConnecting = false
    private var clientInputEnded = false
    private var clientClosing = false
    private var upstreamEverConnected = false
    private var finished = false
    private var clientNeedsFlush = false
    private var upstreamNeedsFlush = false
    /// Events of the bytes written since the last flush: logged after the flush, so the JSON is
    /// encoded while the bytes are already on their way.
    private var unloggedEvents: [AuditEvent] = []

    private var recorder: SessionRecorder?

    /// Each leg's TLS (`--tls terminate`, `--listen-tls`).
    private var clientTLS: LegTLSState
    private var upstreamTLS = LegTLSState()

    private var deadline: NIODeadline?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    private let origin: SessionOrigin

    init(context: ProxyContext, clientHandler: SessionChannelHandler, channel: any Channel, origin: SessionOrigin) {
        self.context = context
        self.clientHandler = clientHandler
        self.origin = origin
        eventLoop = channel.eventLoop
        let id = context.sessionIDs.next()
        let client = Self.endpoint(origin.client)
        var configuration = InspectionConfiguration(
            sessionID: id,
            client: client,
            server: Self.endpoint(origin.upstream),
            source: "live",
            dryRun: context.configuration.dryRun,
            tlsMode: context.configuration.tlsMode,
            recordsClientTranscript: context.recording != nil
        )
        configuration.clientTLSAtStart = origin.implicitTLS
        configuration.upstreamUnverified = context.configuration.tls.upstreamInsecure
        engine = InspectionEngine(configuration: configuration, policy: context.policies.policy)
        clientTLS = LegTLSState(handshakingFromStart: origin.implicitTLS)
        context.sessions.opened()
    }

    // MARK: - Events from the legs

    func legActive(_ side: SessionChannelHandler.Side) {
        switch side {
        case .client:
            engine.start(at: .now(), into: &effects)
            if let refusal = origin.refusal {
                logger.warning("\(refusal.detail)")
                engine.refuse(with: refusal.reply, reason: refusal.reason, at: .now(), into: &effects)
                apply()
                return
            }
            guard context.limiter.acquire() else {
                engine.refuse(
                    with: SMTPReply(code: 421, "4.7.0 Error: too many connections, try again later"),
                    reason: "max-connections", at: .now(), into: &effects)
                limiterHeld = false
                apply()
                return
            }
            limiterHeld = true
            connectUpstream()
            apply()
        case .upstream:
            if let version = context.configuration.proxyProtocol.outgoing {  // before any SMTP byte; never recorded
                let header = ProxyHeaderEncoder.encode(version, source: origin.client, destination: origin.destination)
                upstreamHandler?.context?.writeAndFlush(NIOAny(header), promise: nil)
            }
            if let file = context.recording, recorder == nil, let server = upstreamHandler?.context?.channel.remoteAddress {
                recorder = SessionRecorder(file: file, client: engine.configuration.client, server: Self.endpoint(server), at: .now())
            }
            upstreamOpen = true
            upstreamEverConnected = true
            upstreamConnecting = false
            if !clientOpen {
                upstreamHandler?.context?.close(promise: nil)
                return
            }
            clientHandler.resumeReadingIfAllowed()
            scheduleTimer()
        }
    }

    private var limiterHeld = false

    func received(_ bytes: ByteBuffer, from side: SessionChannelHandler.Side) {
        switch side {
        case .client:
            clientTLS.applicationDataArrived(on: clientHandler.context?.pipeline.syncOperations)
            engine.receiveFromClient(bytes, at: .now(), into: &effects)
        case .upstream:
            upstreamTLS.applicationDataArrived(on: upstreamHandler?.context?.pipeline.syncOperations)
            engine.receiveFromServer(bytes, at: .now(), into: &effects)
        }
        apply(flush: false, order: side == .client ? .clientFirst : .serverFirst)
    }

    func inputClosed(on side: SessionChannelHandler.Side) {
        switch side {
        case .client:
            guard !clientInputEnded else { return }
            clientInputEnded = true
            engine.clientClosed(at: .now(), into: &effects)
        case .upstream:
            engine.serverClosed(at: .now(), into: &effects)
        }
        apply()
    }

    func legInactive(_ side: SessionChannelHandler.Side) {
        switch side {
        case .client:
            clientOpen = false
            if !clientInputEnded {
                clientInputEnded = true
                engine.clientClosed(at: .now(), into: &effects)
            }
            apply()
            if upstreamOpen, engine.waitingFor == .nothing || clientClosing {
                upstreamHandler?.context?.close(promise: nil)
            }
        case .upstream:
            upstreamOpen = false
            engine.serverClosed(at: .now(), into: &effects)
            apply()
        }
        finishIfDone()
    }

    func legFailed(_ side: SessionChannelHandler.Side, error: any Error) {
        logger.debug("\(side) connection error: \(error)")
        guard side == .client ? clientTLS.handshaking : upstreamTLS.handshaking else { return }
        tlsHandshakeFinished(side, failure: error)
    }

    /// A TLS handshake on `side` ended: `failure` is nil when it succeeded.
    func tlsHandshakeFinished(_ side: SessionChannelHandler.Side, failure: (any Error)?) {
        switch side {
        case .client: clientTLS.handshakeEnded()
        case .upstream: upstreamTLS.handshakeEnded()
        }
        let leg: InspectionEngine.TLSLeg = side == .client ? .client : .upstream
        context.metrics?.tlsHandshake(leg: leg, succeeded: failure == nil)
        guard let failure else {
            clientHandler.resumeReadingIfAllowed()
            upstreamHandler?.resumeReadingIfAllowed()
            return
        }
        logger.info("TLS handshake with the \(side) failed: \(failure)")
        engine.tlsHandshakeFailed(leg, reason: "\(failure)", at: .now(), into: &effects)
        apply()
    }

    func writabilityChanged(of side: SessionChannelHandler.Side) {
        switch side {
        case .client:
            upstreamHandler?.resumeReadingIfAllowed()
            clientHandler.resumeReadingIfAllowed()
        case .upstream:
            clientHandler.resumeReadingIfAllowed()
        }
    }

    /// Whether a leg may read now (backpressure on both legs).
    func mayRead(_ side: SessionChannelHandler.Side) -> Bool {
        switch side {
        case .client:
            // A TLS handshake must read to finish, and the replies it holds back (a 421 from
            // a failed upstream, say) only go out once it has.
            if clientTLS.handshaking { return true }
            guard upstreamOpen, let upstream = upstreamHandler?.context else {
                // Upstream gone for good (the proxy aborted an oversized message): the engine
                // still reads the client to its end of data, which gets 552.
                return upstreamEverConnected && engine.wantsClientInput
            }
            // The client's own leg must take writes too: replies the proxy makes itself go there,
            // and a client that pipelines without reading must not fill memory with them.
            let clientWritable = clientHandler.context?.channel.isWritable ?? false
            return upstream.channel.isWritable && clientWritable && engine.wantsClientInput
        case .upstream:
            if upstreamTLS.handshaking { return true }
            guard clientOpen, let client = clientHandler.context else { return true }
            return client.channel.isWritable
        }
    }

    /// Flushes what the last reads wrote (called on `channelReadComplete`), then logs their events.
    func flushPending() {
        if clientNeedsFlush {
            clientNeedsFlush = false
            clientHandler.context?.flush()
        }
        if upstreamNeedsFlush {
            upstreamNeedsFlush = false
            upstreamHandler?.context?.flush()
        }
        logEvents()
    }

    private func logEvents() {
        guard !unloggedEvents.isEmpty else { return }
        // Metrics first: once a reader sees an event in the log, it is counted.
        context.metrics?.record(unloggedEvents)
        context.auditLog.write(unloggedEvents)
        unloggedEvents.removeAll(keepingCapacity: true)
    }

    // MARK: - Upstream

    private func connectUpstream() {
        let upstream = origin.upstream
        upstreamConnecting = true
        let handler = SessionChannelHandler(session: self)
        upstreamHandler = handler
        let boundHandler = NIOLoopBound(handler, eventLoop: eventLoop)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: ProxyServer.waterMark)
            .connectTimeout(.seconds(context.configuration.connectTimeout))
            .bindingTransparently(to: origin.upstreamSource)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(boundHandler.value)
                }
            }
        let connected: EventLoopFuture<any Channel>
        switch upstream {
        case .configured(let hostAndPort):
            // An IP literal needs no resolver: NIO's connect(host:port:) runs getaddrinfo and Happy
            // Eyeballs for every session (6 % of the proxy's CPU under connection churn).
            if let address = try? SocketAddress(ipAddress: hostAndPort.host, port: hostAndPort.port) {
                connected = bootstrap.connect(to: address)
            } else {
                connected = bootstrap.connect(host: hostAndPort.host, port: hostAndPort.port)
            }
        case .address(let address): connected = bootstrap.connect(to: address)
        }
        connected
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    upstreamChannel = channel
                case .failure(let error):
                    upstreamConnecting = false
                    context.metrics?.upstreamError(.connect)
                    logger.warning("upstream \(upstream) unreachable: \(error)")
                    engine.upstreamUnavailable("\(upstream): \(error)", at: .now(), into: &effects)
                    apply()
                    finishIfDone()
                }
            }
    }

    // MARK: - Effects

    /// Carries out what the engine asked for.
    private func apply(flush: Bool = true, order: SessionRecorder.Order = .serverFirst) {
        if unloggedEvents.isEmpty {
            swap(&unloggedEvents, &effects.events)
        } else {
            unloggedEvents.append(contentsOf: effects.events)
        }
        if let file = context.recording, !effects.toClient.isEmpty || !effects.clientTranscript.isEmpty {
            if recorder == nil {
                recorder = SessionRecorder(file: file, client: engine.configuration.client, server: engine.configuration.server, at: .now())
            }
            recorder?.record(effects, order: order, at: .now())
        }
        if effects.startServerTLS { startTLS(on: .upstream) }
        if !effects.toServer.isEmpty, let upstream = upstreamHandler?.context, upstreamOpen {
            for buffer in effects.toServer {
                upstream.write(NIOAny(buffer), promise: nil)
            }
            upstreamNeedsFlush = true
        }
        if !effects.toClient.isEmpty, let client = clientHandler.context, clientOpen {
            for buffer in effects.toClient {
                client.write(NIOAny(buffer), promise: nil)
            }
            clientNeedsFlush = true
        }
        let closeServer = effects.closeServer
        let shutdownServer = effects.shutdownServerOutput
        let closeClient = effects.closeClient
        let startClientTLS = effects.startClientTLS
        effects.removeAll()

        if flush || closeClient || closeServer || shutdownServer || startClientTLS { flushPending() }
        // The 220 went out in clear; everything after it is TLS.
        if startClientTLS { startTLS(on: .client) }
        if closeServer {
            upstreamHandler?.context?.close(promise: nil)
        } else if shutdownServer, let upstream = upstreamHandler?.context, upstreamOpen {
            upstream.close(mode: .output, promise: nil)
        }
        if closeClient, !clientClosing, let client = clientHandler.context {
            clientClosing = true
            let promise = eventLoop.makePromise(of: Void.self)
            client.writeAndFlush(NIOAny(ByteBuffer()), promise: promise)
            promise.futureResult.assumeIsolated().whenComplete { _ in client.close(promise: nil) }
        }
        clientHandler.resumeReadingIfAllowed()
        upstreamHandler?.resumeReadingIfAllowed()
        scheduleTimer()
    }

    /// Puts a TLS handler next to the socket of one leg: the proxy is the TLS server towards the
    /// client and the TLS client towards the upstream.
    private func startTLS(on side: SessionChannelHandler.Side) {
        guard let tls = context.tls else {
            logger.error("the engine asked for TLS but no certificate is loaded")
            return
        }
        let leg = side == .client ? clientHandler.context : upstreamHandler?.context
        guard let pipeline = leg?.pipeline.syncOperations else { return }
        do {
            switch side {
            case .client: try clientTLS.begin(with: tls.clientHandler(), on: pipeline)
            case .upstream: try upstreamTLS.begin(with: tls.upstreamHandler(for: origin.upstream), on: pipeline)
            }
        } catch {
            tlsHandshakeFinished(side, failure: error)
            leg?.close(promise: nil)
        }
    }

    private func finishIfDone() {
        guard !finished, !clientOpen, !upstreamOpen, !upstreamConnecting else { return }
        finished = true
        timer?.cancel()
        // Free the connection slot before logging the end, so a client that reads the log and
        // reconnects is never refused for a slot that is already free.
        if limiterHeld {
            context.limiter.release()
            limiterHeld = false
        }
        engine.finish(at: .now(), into: &effects)
        unloggedEvents.append(contentsOf: effects.events)
        logEvents()
        if recorder != nil {
            recorder?.record(effects, order: .clientFirst, at: .now())
            recorder?.close(at: .now())
        }
        effects.removeAll()
        context.sessions.closed()
        upstreamHandler = nil
    }

    // MARK: - Timeouts (RFC 5321 §4.5.3.2)

    private func scheduleTimer() {
        guard !finished, let seconds = context.configuration.timeouts.seconds(for: engine.waitingFor) else {
            deadline = nil
            return
        }
        let wanted = NIODeadline.now() + .seconds(seconds)
        deadline = wanted
        // One timer per session: a later deadline just moves `deadline` (the timer re-arms when
        // it fires), an earlier one replaces the timer.
        if let timerDeadline, timer != nil, timerDeadline <= wanted { return }
        timer?.cancel()
        timerDeadline = wanted
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: wanted) { [self] in timerFired() }
    }

    private func timerFired() {
        timer = nil
        guard !finished, let deadline else { return }
        if deadline > .now() {
            timerDeadline = deadline
            timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in timerFired() }
            return
        }
        logger.info("timeout waiting for \(engine.waitingFor)")
        engine.timedOut(at: .now(), into: &effects)
        apply()
    }

    static func endpoint(_ target: UpstreamTarget) -> Endpoint {
        switch target {
        case .configured(let hostAndPort): Endpoint(host: hostAndPort.host, port: hostAndPort.port)
        case .address(let address): endpoint(address)
        }
    }

    static func endpoint(_ address: SocketAddress?) -> Endpoint {
        Endpoint(host: address?.ipAddress ?? "unknown", port: address?.port ?? 0)
    }
}

@available(*, unavailable)
extension ProxySession: Sendable {}
