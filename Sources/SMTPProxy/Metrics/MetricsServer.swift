import NIOCore
import NIOHTTP1
import NIOPosix

/// The `--metrics` HTTP listener: `GET /metrics` on its own port, on the proxy's event loops.
final class MetricsServer: Sendable {
    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Binds `address` and serves `metrics` until `close()`.
    static func start(on address: HostAndPort, group: any EventLoopGroup, metrics: ProxyMetrics) async throws -> MetricsServer {
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(metrics: metrics))
                    }
                }
                .bind(host: address.host, port: address.port)
                .get()
            return MetricsServer(channel: channel)
        } catch {
            throw ProxyError.cannotListen(address: "\(address) (--metrics)", reason: "\(error)")
        }
    }

    /// The bound address (port 0 picks a free port).
    var localAddress: SocketAddress? { channel.localAddress }

    /// Stops listening (a scrape in progress finishes on its own connection).
    func close() async {
        try? await channel.close()  // shutdown: a listener that fails to close is going away with the process
    }
}
