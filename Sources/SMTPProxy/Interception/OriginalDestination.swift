import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where an intercepted connection was going before the kernel handed it to the proxy.
///
/// - NAT (`REDIRECT`, `DNAT`): the kernel rewrote the destination; conntrack still knows the
///   original, which `getsockopt(SOL_IP, SO_ORIGINAL_DST)` (IPv4, a `sockaddr_in`) or
///   `getsockopt(SOL_IPV6, IP6T_SO_ORIGINAL_DST)` (IPv6, a `sockaddr_in6`) returns.
/// - `TPROXY`: nothing was rewritten, the accepted socket's local address is the original
///   destination.
/// - Neither (a connection made straight to the listener): the local address too, which the
///   loop guard then recognises as the proxy's own.
enum OriginalDestination {
    /// `SO_ORIGINAL_DST` (linux/netfilter_ipv4.h) and `IP6T_SO_ORIGINAL_DST`
    /// (linux/netfilter_ipv6/ip6_tables.h) are both 80.
    static let optionName: SocketOptionName = 80
    static let levelIPv4: SocketOptionLevel = 0  // SOL_IP
    static let levelIPv6: SocketOptionLevel = 41  // SOL_IPV6

    /// The original destination of an accepted connection; nil only when the socket has no
    /// local address at all. Must be called on the channel's event loop.
    static func lookUp(_ channel: any Channel) -> EventLoopFuture<SocketAddress?> {
        let local = channel.localAddress
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(local)
        }
        let translated: EventLoopFuture<SocketAddress>
        switch local {
        case .v6:
            // An IPv6 listener also accepts IPv4 clients (as ::ffff:a.b.c.d); their NAT entry
            // is an IPv4 one.
            translated = ipv6(provider).flatMapError { _ in ipv4(provider) }
        default:
            translated = ipv4(provider)
        }
        return translated.map { Optional($0) }.recover { _ in local }
    }

    private static func ipv4(_ provider: any SocketOptionProvider) -> EventLoopFuture<SocketAddress> {
        provider.unsafeGetSocketOption(level: levelIPv4, name: optionName).map { (address: sockaddr_in) in
            SocketAddress(address, host: "")
        }
    }

    private static func ipv6(_ provider: any SocketOptionProvider) -> EventLoopFuture<SocketAddress> {
        provider.unsafeGetSocketOption(level: levelIPv6, name: optionName).map { (address: sockaddr_in6) in
            SocketAddress(address, host: "")
        }
    }
}
