import NIOCore
import NIOPosix

/// `IP_TRANSPARENT` (SOL_IP, 19) and `IPV6_TRANSPARENT` (SOL_IPV6, 75): a listener with it
/// accepts connections `TPROXY` diverts to it, and a connecting socket with it may bind to an
/// address that is not the host's (the client's). Setting it needs `CAP_NET_ADMIN` (or `CAP_NET_RAW`).
enum TransparentSocket {
    static let ipv4 = ChannelOptions.Types.SocketOption(level: SocketOptionLevel(0), name: SocketOptionName(19))
    static let ipv6 = ChannelOptions.Types.SocketOption(level: SocketOptionLevel(41), name: SocketOptionName(75))

    /// The option for a socket of `address`'s family.
    static func option(for address: SocketAddress) -> ChannelOptions.Types.SocketOption {
        if case .v6 = address { ipv6 } else { ipv4 }
    }

    /// Makes a listener transparent (before it binds). Its family is not known here (the host
    /// may be a name): IPV6_TRANSPARENT is refused by an IPv4 socket, which then gets IP_TRANSPARENT.
    static func prepareListener(_ channel: any Channel) -> EventLoopFuture<Void> {
        channel.setOption(ipv6, value: 1)
            .flatMapError { _ in channel.setOption(ipv4, value: 1) }
            .flatMapErrorThrowing { error in throw Failure(underlying: error) }
    }

    /// A transparent listener could not be made.
    struct Failure: Error, CustomStringConvertible {
        var underlying: any Error
        var description: String { "IP_TRANSPARENT: \(underlying) (--transparent needs CAP_NET_ADMIN or CAP_NET_RAW)" }
    }
}

extension ClientBootstrap {
    /// Connects from `source` when there is one: the socket is made transparent and bound to it
    /// before the connect (`--upstream-source client`).
    func bindingTransparently(to source: SocketAddress?) -> ClientBootstrap {
        guard let source else { return self }
        return channelOption(TransparentSocket.option(for: source), value: 1).bind(to: source)
    }
}
