import NIOCore

/// How a session's upstream leg comes to be: over a TCP socket in the proxy
/// (`SocketUpstreamConnector`), over an `EmbeddedChannel` in the tests of the NIO edge, which
/// hand the session a server leg they drive byte by byte.
protocol UpstreamConnector: Sendable {
    /// Connects to `target` (from `source`, when the leg binds transparently) on `eventLoop`, the
    /// session's own. `initialize` installs the leg's handlers before the channel is active; the
    /// future completes on `eventLoop` with the connected channel or the reason it failed.
    func connect(
        to target: UpstreamTarget, from source: SocketAddress?, on eventLoop: any EventLoop,
        initialize: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<any Channel>
}
