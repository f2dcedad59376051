/// What a `client-limits` rule counts per (`key:`, SPEC §10).
///
///     key: network     # 192.0.2.7 counts for 192.0.2.0/24, 2001:db8:1:2::5 for 2001:db8:1:2::/64
public enum ClientLimitKey: String, Hashable, Sendable, CaseIterable {
    /// The client's IP address (IPv4-mapped IPv6 addresses count as their IPv4 address).
    case address
    /// The client's IPv4 /24 or IPv6 /64: one host with many addresses counts once.
    case network
    /// The AUTH identity of the session once it is known, else the client's address.
    case user
}
