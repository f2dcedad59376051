/// The source address of the upstream leg (`--upstream-source`).
public enum UpstreamSource: String, Sendable, Hashable, CaseIterable {
    /// The proxy's own address (the kernel picks it): the server sees the proxy as its client.
    case proxy
    /// The client's address, TPROXY style: the upstream socket is `IP_TRANSPARENT` and bound to
    /// the client's address before it connects, so the server sees (and logs) the real client.
    /// Needs `--transparent` and policy routing that delivers the server's replies to the proxy.
    case client
}
