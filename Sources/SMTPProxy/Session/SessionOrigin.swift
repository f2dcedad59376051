import NIOCore

/// Who a session is for and where it goes: worked out once per accepted connection, before the
/// engine starts. The plain case is the socket's peer and the configured `--upstream`; a PROXY
/// protocol header replaces the client (and the address it connected to), and transparent
/// interception replaces the upstream with the connection's original destination.
struct SessionOrigin {
    /// The client as the audit log names it: the socket's peer, or the PROXY header's source.
    var client: SocketAddress?
    /// The address the client connected to: the listener, the PROXY header's destination, or
    /// (intercepted) the server it meant to reach.
    var destination: SocketAddress?
    /// Where the upstream leg connects.
    var upstream: UpstreamTarget
    /// The client came in on the implicit-TLS listener: its leg is encrypted from the first byte.
    var implicitTLS = false
    /// The address the upstream leg connects from, when not the proxy's own (the client's, with
    /// `--upstream-source client`).
    var upstreamSource: SocketAddress?
    /// Set when the session must be turned away before it begins (the interception loop guard).
    var refusal: OriginRefusal?

    /// The plain case: the channel's own addresses and the configured upstream.
    init(channel: any Channel, upstream: HostAndPort) {
        client = channel.remoteAddress
        destination = channel.localAddress
        self.upstream = .configured(upstream)
    }
}

/// The upstream leg's destination.
enum UpstreamTarget: CustomStringConvertible {
    /// `--upstream HOST:PORT` (a name is resolved at connect time).
    case configured(HostAndPort)
    /// An address taken from the connection itself (transparent interception).
    case address(SocketAddress)

    var description: String {
        switch self {
        case .configured(let hostAndPort): "\(hostAndPort)"
        case .address(let address): "\(address)"
        }
    }
}
