import Logging
import NIOCore
import SMTPCore

/// The upstream leg: one connection per session, made when the client is accepted.
extension ProxySession {
    func connectUpstream() {
        // TCP_NODELAY on the client's leg from its admission on (before any byte is relayed): a
        // connection refused at connect writes one reply and closes, and is spared the call.
        try? clientHandler.context?.channel.syncOptions?.setOption(.socketOption(.tcp_nodelay), value: 1)
        let upstream = origin.upstream
        upstreamConnecting = true
        let handler = SessionChannelHandler(session: self)
        upstreamHandler = handler
        let boundHandler = NIOLoopBound(handler, eventLoop: eventLoop)
        let xclientFor = context.configuration.xclient ? origin.client : nil
        let connected = context.upstreamConnector.connect(to: upstream, from: origin.upstreamSource, on: eventLoop) { [xclientFor] channel in
            channel.eventLoop.makeCompletedFuture {
                // `--xclient`: the upstream learns the real client before the session sees
                // its greeting; the exchange is hidden from the client.
                if let client = xclientFor {
                    try channel.pipeline.syncOperations.addHandler(XCLIENTHandler(client: client) { boundHandler.value.session?.xclientFinished($0) })
                }
                try channel.pipeline.syncOperations.addHandler(boundHandler.value)
            }
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
                    inputTime = .now()
                    engine.upstreamUnavailable("\(upstream): \(error)", at: inputTime, into: &effects)
                    apply()
                    finishIfDone()
                }
            }
    }
}
