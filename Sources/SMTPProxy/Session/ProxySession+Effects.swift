import Logging
import NIOCore
import SMTPCore
import SMTPServices

/// Carrying out the engine's actions, in order: bytes to each leg, TLS, closing, read gating, the
/// timer, consults, and the session's end.
extension ProxySession {
    /// Carries out what the engine asked for. With `flush` false (a read), the legs are flushed at
    /// `channelReadComplete`; closing and TLS flush at once.
    func apply(flush: Bool = true) {
        var actions = spareActions
        spareActions = []
        swap(&actions, &effects.actions)
        // The events go to the log in their order (the `log` actions mark where they fall among
        // the writes; the log is written after the batch's flush, so the order is all that counts).
        if unloggedEvents.isEmpty {
            swap(&unloggedEvents, &effects.events)
        } else {
            unloggedEvents.append(contentsOf: effects.events)
            effects.events.removeAll(keepingCapacity: true)
        }
        var consults: [(ConsultID, ConsultRequest)] = []
        var releases: HeldMessageState.Release?
        for action in actions {
            switch action {
            case .writeToServer(let bytes):
                guard upstreamOpen, let upstream = upstreamHandler?.context else { continue }
                upstream.write(NIOAny(bytes), promise: nil)
                upstreamNeedsFlush = true
            case .writeToClient(let bytes):
                record(action)
                guard clientOpen, let client = clientHandler.context else { continue }
                client.write(NIOAny(bytes), promise: nil)
                clientNeedsFlush = true
            case .log:
                break
            case .transcribe:
                record(action)
            case .connectUpstream:
                connectUpstream()
            case .startTLS(.client):
                // The 220 went out in clear; everything after it is TLS.
                flushPending()
                startTLS(on: .client)
            case .startTLS(.upstream):
                startTLS(on: .upstream)
            case .closeServer:
                flushPending()
                upstreamHandler?.context?.close(promise: nil)
            case .shutdownServerOutput:
                flushPending()
                if upstreamOpen, let upstream = upstreamHandler?.context { upstream.close(mode: .output, promise: nil) }
            case .closeClient:
                flushPending()
                closeClient()
            case .pauseClientReads:
                engineAllowsClientReads = false
            case .resumeClientReads:
                engineAllowsClientReads = true
            case .setTimer(let wait, let deadline):
                engineWait = wait
                setTimer(deadline: deadline.map { eventLoop.now + TimeAmount($0.duration(since: inputTime)) })
            case .consult(let id, let request):
                consults.append((id, request))
            case .resumeAt(let id, let deadline):
                let delay = TimeAmount(deadline.duration(since: inputTime))
                eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in decided(id, .proceed) }
            case .holdContent(let bytes):
                hold(bytes)
            case .releaseHeldContent:
                releases = .data
            case .releaseHeldChunk:
                releases = .chunk
            case .discardHeldContent:
                discardHeldMessage()
            }
        }
        actions.removeAll(keepingCapacity: true)
        spareActions = actions
        if flush { flushPending() }
        clientHandler.resumeReadingIfAllowed()
        upstreamHandler?.resumeReadingIfAllowed()
        for (id, request) in consults { ask(id, request) }
        if let releases { releaseHeldMessage(releases) }
    }

    /// Asks the session's consultants; their verdict resumes the engine (at once, without a
    /// future, when they answered synchronously).
    private func ask(_ id: ConsultID, _ request: ConsultRequest) {
        var pending = request.stage == .endOfMessage ? judgeHeldMessage(id, request) : nil
        if pending == nil {
            switch consultants.answer(clientNegotiated.annotated(request), at: inputTime, on: eventLoop) {
            case .now(let verdict): return decided(id, verdict)
            case .later(let future): pending = future
            }
        }
        pending!.assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let verdict): decided(id, verdict)
            case .failure(let error):
                // Consultants never fail by contract; one that does lets the session go on.
                logger.error("consultant failed for \(request.stage.rawValue): \(error)")
                decided(id, .proceed)
            }
        }
    }

    private func decided(_ id: ConsultID, _ verdict: Verdict) {
        guard !finished else { return }
        inputTime = .now()
        engine.decided(id, verdict, at: inputTime, into: &effects)
        apply()
    }

    private func record(_ action: SessionAction) {
        guard let file = context.recording else { return }
        if recorder == nil {
            recorder = SessionRecorder(file: file, client: engine.configuration.client, server: engine.configuration.server, at: inputTime)
        }
        recorder?.record(action, at: inputTime)
    }

    private func closeClient() {
        guard !clientClosing, let client = clientHandler.context else { return }
        clientClosing = true
        let promise = eventLoop.makePromise(of: Void.self)
        client.writeAndFlush(NIOAny(ByteBuffer()), promise: promise)
        promise.futureResult.assumeIsolated().whenComplete { _ in client.close(promise: nil) }
    }

    /// Puts a TLS handler next to the socket of one leg: the proxy is the TLS server towards the
    /// client and the TLS client towards the upstream.
    func startTLS(on side: SessionChannelHandler.Side) {
        guard let tls = context.tls else {
            logger.error("the engine asked for TLS but no certificate is loaded")
            return
        }
        let leg = side == .client ? clientHandler.context : upstreamHandler?.context
        guard let pipeline = leg?.pipeline.syncOperations else { return }
        do {
            switch side {
            case .client:
                try clientTLS.begin(with: tls.clientHandler(), on: pipeline)
                try pipeline.addHandler(ServerHelloObserver(), position: .first)
            case .upstream: try upstreamTLS.begin(with: tls.upstreamHandler(for: origin.upstream), on: pipeline)
            }
        } catch {
            tlsHandshakeFinished(side, failure: error)
            leg?.close(promise: nil)
        }
    }

    func finishIfDone() {
        guard !finished, !clientOpen, !upstreamOpen, !upstreamConnecting else { return }
        finished = true
        timer?.cancel()
        // Free the connection slot before logging the end, so a client that reads the log and
        // reconnects is never refused for a slot that is already free.
        if limiterHeld {
            context.limiter.release()
            limiterHeld = false
        }
        inputTime = .now()
        discardHeldMessage()
        engine.finish(at: inputTime, into: &effects)
        unloggedEvents.append(contentsOf: effects.events)
        for action in effects.actions {
            if case .transcribe = action { record(action) }
        }
        // The last open session ended: the log goes to disk within 10 ms, complete (one write
        // for a burst of sessions that each end alone, as a flood refused at connect does). While
        // others are open the server's 200 ms flusher does it.
        logEvents()
        if context.sessions.count <= 1 { context.idleFlush.request(on: eventLoop) }
        recorder?.close(at: inputTime)
        effects.removeAll()
        context.sessions.closed()
        upstreamHandler = nil
    }
}
