import NIOCore
import NIOHTTP1

/// Answers one HTTP request per connection: `GET /metrics` with the Prometheus text format, 404
/// for any other path, 405 for any other method on `/metrics`; then closes the connection.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private let metrics: ProxyMetrics
    private var request: HTTPRequestHead?

    init(metrics: ProxyMetrics) {
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let request else { return }
            self.request = nil
            respond(to: request, context: context)
        }
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let status: HTTPResponseStatus
        var headers = HTTPHeaders([("Connection", "close")])
        let body: ByteBuffer
        if path != "/metrics" {
            status = .notFound
            body = ByteBuffer(string: "not found: the metrics are at /metrics\n")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        } else if request.method != .GET {
            status = .methodNotAllowed
            body = ByteBuffer(string: "method not allowed: use GET\n")
            headers.add(name: "Allow", value: "GET")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        } else {
            status = .ok
            body = ByteBuffer(bytes: metrics.exposition())
            headers.add(name: "Content-Type", value: Self.contentType)
        }
        headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        let head = HTTPResponseHead(version: request.version, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension MetricsHTTPHandler: Sendable {}
