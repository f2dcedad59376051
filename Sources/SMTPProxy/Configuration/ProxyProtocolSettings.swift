import IPAddressing
import NIOCore

/// PROXY protocol on both legs (SPEC §2, §8): `--proxy-protocol-in`, `--proxy-protocol-from`,
/// `--proxy-protocol-out`. The default does neither.
public struct ProxyProtocolSettings: Sendable {
    /// Every client connection starts with a PROXY v1 or v2 header (`--proxy-protocol-in`).
    public var acceptsHeader: Bool
    /// Peers allowed to connect when `acceptsHeader` (`--proxy-protocol-from`); empty: any peer.
    /// Others are closed at once: a PROXY header is only as trustworthy as whoever sends it.
    public var allowedPeers: [CIDR]
    /// The header written first on every upstream connection (`--proxy-protocol-out`), or nil.
    public var outgoing: ProxyProtocolVersion?
    /// How long a connection may take to send its whole header before it is closed. A balancer
    /// sends it with (or right after) the TCP handshake, so a few seconds is generous; 5 s is
    /// Postfix's `smtpd_upstream_proxy_timeout` default. No session, upstream connection or
    /// connection slot exists during this wait.
    public var headerTimeout: TimeAmount
    /// The largest v2 header (addresses and TLVs included) accepted.
    public var maximumV2Length: Int

    public init(
        acceptsHeader: Bool = false, allowedPeers: [CIDR] = [], outgoing: ProxyProtocolVersion? = nil,
        headerTimeout: TimeAmount = .seconds(5), maximumV2Length: Int = 4096
    ) {
        self.acceptsHeader = acceptsHeader
        self.allowedPeers = allowedPeers
        self.outgoing = outgoing
        self.headerTimeout = headerTimeout
        self.maximumV2Length = maximumV2Length
    }

    /// Whether `peer` may send a header (always, when no `allowedPeers` are configured).
    public func allows(_ peer: SocketAddress?) -> Bool {
        guard !allowedPeers.isEmpty else { return true }
        guard let peer else { return false }
        return allowedPeers.contains { $0.contains(peer) }
    }
}
