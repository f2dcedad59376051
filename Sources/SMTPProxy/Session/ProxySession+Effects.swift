import Logging
import NIOCore
import SMTPCore

/// Carrying out the engine's effects: bytes to each leg, TLS, closing, and the session's end.
extension ProxySession {
    /// Carries out what the engine asked for.
    func apply(flush: Bool = true, order: SessionRecorder.Order = .serverFirst) {
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
    func startTLS(on side: SessionChannelHandler.Side) {
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
        engine.finish(at: .now(), into: &effects)
        unloggedEvents.append(contentsOf: effects.events)
        // The last open session ended: the log goes to disk now, complete. While others are open
        // the server's 200 ms flusher does it, instead of one write system call per session.
        logEvents(flush: context.sessions.count <= 1)
        if recorder != nil {
            recorder?.record(effects, order: .clientFirst, at: .now())
            recorder?.close(at: .now())
        }
        effects.removeAll()
        context.sessions.closed()
        upstreamHandler = nil
    }
}
