/// Where the upstream leg of each session goes: the configured `--upstream`, or, for a connection
/// the kernel diverted to the proxy, the server the client was really connecting to.
public enum InterceptionMode: Sendable, Hashable {
    /// `--upstream HOST:PORT`: every session goes to that server.
    case off
    /// `--upstream original-dst`: connections arrive by NAT (iptables/nft `REDIRECT` or `DNAT`);
    /// each goes to its original destination, read with `SO_ORIGINAL_DST` /
    /// `IP6T_SO_ORIGINAL_DST`.
    case originalDestination
    /// `--transparent`: as `originalDestination`, and the listener is `IP_TRANSPARENT` so it also
    /// accepts connections diverted by `TPROXY` (no NAT: the accepted socket's own local address
    /// is the original destination).
    case transparent

    /// Whether the upstream is taken from each connection rather than from `--upstream`.
    public var takesDestinationFromConnection: Bool { self != .off }
}
