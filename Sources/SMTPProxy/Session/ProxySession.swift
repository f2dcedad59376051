import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SMTPCore
import SMTPServices

/// One client connection and its upstream connection, on one event loop, driving one
/// `InspectionEngine`. It only moves bytes and carries out the engine's effects: every protocol
/// decision is the engine's, so the live proxy and the replayer cannot disagree.
final class ProxySession {
    let context: ProxyContext
    let eventLoop: any EventLoop
    var engine: InspectionEngine
    var effects = InspectionEffects()
    /// The action list being carried out, swapped with `effects.actions` so that both keep their
    /// capacity from one batch to the next.
    var spareActions: [SessionAction] = []
    /// The outside services this session's engine consults (taken with the rules at its start).
    let consultants: ConsultantChain
    /// What the engine last said about reading the client and about the timer.
    var engineAllowsClientReads = true
    var engineWait = InspectionEngine.Wait.nothing
    /// The time handed to the engine with the current input (its timer deadlines count from it).
    var inputTime = SMTPTimestamp.epoch
    /// The message held for milters, if any.
    var held: HeldMessageState
    /// The session's logger, with its id and client as metadata: made on first use (most sessions
    /// never log, and setting metadata on a log handler costs at every session under churn).
    lazy var logger: Logger = {
        var logger = context.logger
        logger[metadataKey: "session"] = "\(engine.configuration.sessionID)"
        logger[metadataKey: "client"] = "\(engine.configuration.client)"
        return logger
    }()

    let clientHandler: SessionChannelHandler
    var upstreamHandler: SessionChannelHandler?
    var upstreamChannel: (any Channel)?

    var clientOpen = true
    var upstreamOpen = false
    var upstreamConnecting = false
    var clientInputEnded = false
    var clientClosing = false
    var upstreamEverConnected = false
    var finished = false
    var clientNeedsFlush = false
    var upstreamNeedsFlush = false
    /// Events of the bytes written since the last flush: logged after the flush, so the JSON is
    /// encoded while the bytes are already on their way.
    var unloggedEvents: [AuditEvent] = []
    /// Where their JSON lines are encoded (kept, with its capacity, from one batch to the next).
    var auditLines: [UInt8] = []

    var recorder: SessionRecorder?

    /// Each leg's TLS (`--tls terminate`, `--listen-tls`).
    var clientTLS: LegTLSState
    var upstreamTLS = LegTLSState()
    /// The client leg's negotiated TLS, for consults (`encryption_*`).
    var clientNegotiated = NegotiatedTLS()

    var deadline: NIODeadline?
    var timer: Scheduled<Void>?
    var timerDeadline: NIODeadline?

    let origin: SessionOrigin

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
        configuration.xclient = context.configuration.xclient
        configuration.upstreamUnverified = context.configuration.tls.upstreamInsecure
        configuration.timeouts = context.configuration.timeouts
        let rules = context.policies.rules
        consultants = rules.consultants
        if !rules.consultants.isEmpty { configuration.consultStages = rules.consultants.stages(for: client) }
        let milters = rules.consultants.consultants.lazy.compactMap { $0 as? MilterConsultant }.first { !$0.milters.isEmpty }
        held = HeldMessageState(milters: milters)
        configuration.holdsMessages = milters != nil
        engine = InspectionEngine(configuration: configuration, policy: rules.policy)
        clientTLS = LegTLSState(handshakingFromStart: origin.implicitTLS)
        context.sessions.opened()
    }

    // MARK: - Events from the legs

    func legActive(_ side: SessionChannelHandler.Side) {
        switch side {
        case .client:
            // A refused origin or a full house never reaches the upstream; otherwise the engine
            // asks for the upstream (`connectUpstream`), after a connect-time consult if any.
            var refusal: (reply: SMTPReply, reason: EndReason)?
            if let origin = origin.refusal {
                logger.warning("\(origin.detail)")
                refusal = (origin.reply, EndReason(rawValue: origin.reason))
            } else if context.limiter.acquire() {
                limiterHeld = true
            } else {
                refusal = (SMTPReply(code: 421, "4.7.0 Error: too many connections, try again later"), "max-connections")
            }
            inputTime = .now()
            engine.start(at: inputTime, refusal: refusal, into: &effects)
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
        }
    }

    var limiterHeld = false

    func received(_ bytes: ByteBuffer, from side: SessionChannelHandler.Side) {
        inputTime = .now()
        switch side {
        case .client:
            clientTLS.applicationDataArrived(on: clientHandler.context?.pipeline.syncOperations)
            engine.receiveFromClient(bytes, at: inputTime, into: &effects)
        case .upstream:
            upstreamTLS.applicationDataArrived(on: upstreamHandler?.context?.pipeline.syncOperations)
            engine.receiveFromServer(bytes, at: inputTime, into: &effects)
        }
        apply(flush: false)
    }

    func inputClosed(on side: SessionChannelHandler.Side) {
        switch side {
        case .client:
            guard !clientInputEnded else { return }
            clientInputEnded = true
            inputTime = .now()
            engine.clientClosed(at: inputTime, into: &effects)
        case .upstream:
            inputTime = .now()
            engine.serverClosed(at: inputTime, into: &effects)
        }
        apply()
    }

    func legInactive(_ side: SessionChannelHandler.Side) {
        switch side {
        case .client:
            clientOpen = false
            if !clientInputEnded {
                clientInputEnded = true
                inputTime = .now()
            engine.clientClosed(at: inputTime, into: &effects)
            }
            apply()
            if upstreamOpen, engineWait == .nothing || clientClosing {
                upstreamHandler?.context?.close(promise: nil)
            }
        case .upstream:
            upstreamOpen = false
            inputTime = .now()
            engine.serverClosed(at: inputTime, into: &effects)
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
        case .client:
            clientTLS.handshakeEnded()
            if let pipeline = clientHandler.context?.pipeline.syncOperations {
                if failure == nil { clientNegotiated.version = (try? pipeline.handler(type: NIOSSLServerHandler.self))?.tlsVersion }
                if let observer = try? pipeline.handler(type: ServerHelloObserver.self) {
                    if failure == nil { clientNegotiated.cipherSuite = observer.cipherSuite }
                    pipeline.removeHandler(observer, promise: nil)
                }
            }
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
        inputTime = .now()
        engine.tlsHandshakeFailed(leg, reason: "\(failure)", at: inputTime, into: &effects)
        apply()
    }

    func writabilityChanged(of side: SessionChannelHandler.Side) {
        switch side {
        case .client:
            upstreamHandler?.resumeReadingIfAllowed()
            clientHandler.resumeReadingIfAllowed()
        case .upstream:
            continueRelease()
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
                return upstreamEverConnected && engineAllowsClientReads
            }
            // The client's own leg must take writes too: replies the proxy makes itself go there,
            // and a client that pipelines without reading must not fill memory with them.
            let clientWritable = clientHandler.context?.channel.isWritable ?? false
            return upstream.channel.isWritable && clientWritable && engineAllowsClientReads
                && held.bytesWaiting < HeldMessageState.maximumBytesWaiting
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

    /// Hands the events to the metrics, the consultants and the audit log's buffer (written by
    /// the 200 ms flusher, a full buffer, or `IdleLogFlush`).
    func logEvents() {
        guard !unloggedEvents.isEmpty else { return }
        // Metrics first: once a reader sees an event in the log, it is counted.
        context.metrics?.record(unloggedEvents)
        if !consultants.isEmpty { consultants.observe(unloggedEvents[...]) }
        context.auditLog.write(unloggedEvents, encodingIn: &auditLines)
        unloggedEvents.removeAll(keepingCapacity: true)
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
