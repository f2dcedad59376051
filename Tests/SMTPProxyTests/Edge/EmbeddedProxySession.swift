import Foundation
import Logging
import NIOCore
import NIOEmbedded
import SMTPCore
@testable import SMTPProxy

/// One `ProxySession` on `EmbeddedChannel`s: the client leg is accepted at once; the server leg
/// comes when the test accepts the session's connect (`acceptUpstream`). Everything runs on one
/// `EmbeddedEventLoop`, whose clock moves only with `advanceTime`.
final class EmbeddedProxySession {
    let loop = EmbeddedEventLoop()
    let connector: EmbeddedUpstreamConnector
    let context: ProxyContext
    let client: EmbeddedChannel
    let clientProbe = LegProbe()
    let serverProbe = LegProbe()
    private(set) var server: EmbeddedChannel?
    let directory: String

    /// `waitsForProxyHeader`: the client leg starts its session at a `ProxyHeader` event, as
    /// behind `--proxy-protocol-in`'s decoder.
    init(policies: PolicyStore = PolicyStore(policy: NoRules()), maxConnections: Int = 10_000, waitsForProxyHeader: Bool = false) throws {
        directory = NSTemporaryDirectory() + "smtp-inspect-edge-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let configuration = ProxyConfiguration(
            listen: HostAndPort(host: "127.0.0.1", port: 2525), upstream: HostAndPort(host: "192.0.2.25", port: 25),
            maxConnections: maxConnections, threads: 1)
        var logger = Logger(label: "edge-test")
        logger.logLevel = .critical
        connector = EmbeddedUpstreamConnector(loop: loop)
        context = ProxyContext(
            configuration: configuration, policies: policies, auditLog: try AuditLogWriter(path: directory + "/audit.jsonl"),
            limiter: ConnectionLimiter(maximum: configuration.maxConnections), sessionIDs: SessionIDGenerator(), logger: logger,
            sessions: SessionRegistry(), recording: nil, tls: nil, metrics: nil, upstreamConnector: connector)
        client = EmbeddedChannel(loop: loop)
        client.allowRemoteHalfClosure = true
        client.remoteAddress = try SocketAddress(ipAddress: "198.51.100.7", port: 40_000)
        client.localAddress = try SocketAddress(ipAddress: "127.0.0.1", port: 2525)
        let context = self.context
        let handler = SessionChannelHandler(waitsForProxyHeader: waitsForProxyHeader) { handler, handlerContext, header in
            var origin = SessionOrigin(channel: handlerContext.channel, upstream: context.configuration.upstream)
            if let header { origin.apply(header) }
            return ProxySession(context: context, clientHandler: handler, channel: handlerContext.channel, origin: origin)
        }
        try client.pipeline.syncOperations.addHandlers([clientProbe, handler])
    }

    /// The client connects: the session starts.
    func connectClient() throws {
        try client.connect(to: client.remoteAddress!).wait()
    }

    /// Accepts the session's upstream connect; the server leg is then active.
    @discardableResult
    func acceptUpstream() throws -> EmbeddedChannel {
        let channel = try connector.accept(probe: serverProbe)
        server = channel
        return channel
    }

    /// Bytes from the client as one read, then its `channelReadComplete` (where the session
    /// flushes), as `EmbeddedChannel.writeInbound` does.
    func clientSends(_ text: String) throws {
        try client.writeInbound(ByteBuffer(string: text))
    }

    func serverSends(_ text: String) throws {
        try server!.writeInbound(ByteBuffer(string: text))
    }

    /// Everything written and flushed to the client since the last call.
    func toClient() throws -> String { try Self.drain(client) }

    /// Everything written and flushed to the server since the last call.
    func toServer() throws -> String { try server.map(Self.drain) ?? "" }

    /// The audit events written so far (the log is flushed first).
    func events() -> [[String: Any]] {
        context.auditLog.flush()
        return auditEvents(at: directory + "/audit.jsonl")
    }

    func eventNames() -> [String] { events().compactMap { $0["event"] as? String } }

    private static func drain(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
