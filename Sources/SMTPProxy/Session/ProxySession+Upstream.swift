import Logging
import NIOCore
import NIOPosix
import SMTPCore

/// The upstream leg: one connection per session, made when the client is accepted.
extension ProxySession {
    func connectUpstream() {
        let upstream = origin.upstream
        upstreamConnecting = true
        let handler = SessionChannelHandler(session: self)
        upstreamHandler = handler
        let boundHandler = NIOLoopBound(handler, eventLoop: eventLoop)
        let xclientFor = context.configuration.xclient ? origin.client : nil
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: ProxyServer.waterMark)
            .connectTimeout(.seconds(context.configuration.connectTimeout))
            .bindingTransparently(to: origin.upstreamSource)
            .channelInitializer { [xclientFor] channel in
                channel.eventLoop.makeCompletedFuture {
                    // `--xclient`: the upstream learns the real client before the session sees
                    // its greeting; the exchange is hidden from the client.
                    if let client = xclientFor {
                        try channel.pipeline.syncOperations.addHandler(XCLIENTHandler(client: client) { boundHandler.value.session?.xclientFinished($0) })
                    }
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
                    inputTime = .now()
                    engine.upstreamUnavailable("\(upstream): \(error)", at: inputTime, into: &effects)
                    apply()
                    finishIfDone()
                }
            }
    }
}
