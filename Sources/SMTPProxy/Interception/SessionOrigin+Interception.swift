import NIOCore
import SMTPCore

extension SessionOrigin {
    /// The origin of an accepted connection under `configuration`: the plain one, or, when
    /// intercepting, one whose upstream is the connection's original destination. Called on the
    /// channel's event loop (in the child channel initializer).
    static func make(for channel: any Channel, configuration: ProxyConfiguration) -> EventLoopFuture<SessionOrigin> {
        let plain = SessionOrigin(channel: channel, upstream: configuration.upstream)
        guard configuration.interception.takesDestinationFromConnection else {
            return channel.eventLoop.makeSucceededFuture(plain)
        }
        let listener = channel.parent?.localAddress
        return OriginalDestination.lookUp(channel).map { original in
            var origin = plain
            origin.intercept(original, listener: listener, source: configuration.upstreamSource)
            return origin
        }
    }

    /// Sends the session to `found` (the original destination), or refuses it when that is the
    /// proxy's own listener.
    mutating func intercept(_ found: SocketAddress?, listener: SocketAddress?, source: UpstreamSource) {
        guard let original = found?.unmapped else {
            refusal = OriginRefusal(
                reply: SMTPReply(code: 421, "4.3.0 Error: original destination unknown, try again later"),
                reason: "original-destination-unknown", detail: "the accepted socket has no local address")
            return
        }
        destination = original
        upstream = .address(original)
        if let listener, LoopGuard.isOwnListener(original, listener: listener) {
            refusal = .loop(listener: listener)
            return
        }
        if source == .client, var spoofed = client?.unmapped {
            // The client's address, not its port: that four-tuple is the intercepted connection's.
            spoofed.port = 0
            upstreamSource = spoofed
        }
    }
}
