import IPAddressing
import SMTPFilters

/// One client as the limits see it: its keys, and their text for `limit` events.
///
///     ClientIdentity(host: "::ffff:192.0.2.7")   // address 192.0.2.7, network 192.0.2.0/24
///     ClientIdentity(host: "2001:db8:1:2::5")    // network 2001:db8:1:2::/64
struct ClientIdentity: Sendable {
    var host: String
    var address: CounterKey
    var network: CounterKey

    init(host: String) {
        self.host = host
        (address, network) = CounterKey.client(host)
    }

    /// The address as `IPAddress` (IPv4-mapped addresses as IPv4): parsed only when needed (an
    /// exemption to check, a `limit` event to write), not for every event.
    var ip: IPAddress? {
        IPAddress(host).map { $0.unmappedIPv4 ?? $0 }
    }

    /// The key a rule counts this client by; `user` is the session's AUTH identity, if known.
    func key(_ kind: ClientLimitKey, user: String?) -> CounterKey {
        switch kind {
        case .address: address
        case .network: network
        case .user: user.map(CounterKey.user) ?? address.asUserFallback
        }
    }

    /// The `key` field of a `limit` event: `192.0.2.7`, `192.0.2.0/24`, `2001:db8:1:2::/64`, `user:bob`.
    func text(_ kind: ClientLimitKey, user: String?) -> String {
        switch kind {
        case .address: return ip?.description ?? host
        case .network:
            guard let ip = self.ip else { return host }
            return CIDR(network: ip, prefixLength: ip.isIPv4 ? 24 : 64).description
        case .user: return user.map { "user:\($0)" } ?? (ip?.description ?? host)
        }
    }

    /// True when an `exempt` entry of `limits` covers this client.
    func isExempt(by limits: ClientLimits) -> Bool {
        guard !limits.exemptions.isEmpty, let ip = self.ip else { return false }
        return limits.isExempt(ip)
    }
}
