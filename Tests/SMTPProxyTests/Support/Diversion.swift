/// How the router in a `NamespaceTopology` diverts the client's port-25 connections to the proxy:
/// the rules an operator would write (docs/transparent-interception.md).
enum Diversion: Sendable, CustomStringConvertible {
    /// `iptables`/`ip6tables -t nat … REDIRECT --to-ports PORT`.
    case iptablesRedirect(NamespaceTopology.Family)
    /// The same REDIRECT as an nft `inet` table (both families at once).
    case nftRedirect
    /// `iptables`/`ip6tables -t mangle … TPROXY --on-port PORT` with the policy routing that
    /// delivers the diverted (and, for client-address upstreams, the returning) packets locally.
    case tproxy(NamespaceTopology.Family)
    /// The same TPROXY as an nft `inet` table (both families), with the same policy routing.
    case nftTproxy

    var description: String {
        switch self {
        case .iptablesRedirect(let family): "\(family == .v4 ? "iptables" : "ip6tables") REDIRECT"
        case .nftRedirect: "nft redirect"
        case .tproxy(let family): "\(family == .v4 ? "iptables" : "ip6tables") TPROXY"
        case .nftTproxy: "nft tproxy"
        }
    }

    /// Installs the rules in the topology's router namespace.
    func install(in topology: NamespaceTopology, port: Int) throws {
        let router = topology.router
        let interface = NamespaceTopology.clientSideInterface
        switch self {
        case .iptablesRedirect(let family):
            try topology.run(in: router, Self.iptables(family), [
                "-t", "nat", "-A", "PREROUTING", "-i", interface, "-p", "tcp", "--dport", "25",
                "-j", "REDIRECT", "--to-ports", "\(port)",
            ])
        case .nftRedirect:
            try topology.run(in: router, "nft", ["-f", "-"], input: """
                table inet smtp_inspect {
                    chain prerouting {
                        type nat hook prerouting priority dstnat; policy accept;
                        iifname "\(interface)" tcp dport 25 redirect to :\(port)
                    }
                }

                """)
        case .tproxy(let family):
            let iptables = Self.iptables(family)
            try topology.run(in: router, iptables, [
                "-t", "mangle", "-A", "PREROUTING", "-p", "tcp", "-m", "socket", "--transparent", "-j", "MARK", "--set-mark", "1",
            ])
            try topology.run(in: router, iptables, [
                "-t", "mangle", "-A", "PREROUTING", "-i", interface, "-p", "tcp", "--dport", "25",
                "-j", "TPROXY", "--on-port", "\(port)", "--tproxy-mark", "1",
            ])
            try Self.routeMarkedLocally(in: topology, family: family)
        case .nftTproxy:
            try topology.run(in: router, "nft", ["-f", "-"], input: """
                table inet smtp_inspect {
                    chain prerouting {
                        type filter hook prerouting priority mangle; policy accept;
                        meta l4proto tcp socket transparent 1 meta mark set 1 accept
                        iifname "\(interface)" meta nfproto ipv4 tcp dport 25 tproxy ip to :\(port) meta mark set 1 accept
                        iifname "\(interface)" meta nfproto ipv6 tcp dport 25 tproxy ip6 to :\(port) meta mark set 1 accept
                    }
                }

                """)
            try Self.routeMarkedLocally(in: topology, family: .v4)
            try Self.routeMarkedLocally(in: topology, family: .v6)
        }
    }

    /// TPROXY's policy routing: packets marked 1 are delivered locally, whatever their address.
    private static func routeMarkedLocally(in topology: NamespaceTopology, family: NamespaceTopology.Family) throws {
        let version = family == .v4 ? "-4" : "-6"
        try topology.ip(["-n", topology.router, version, "rule", "add", "fwmark", "1", "lookup", "100"])
        try topology.ip(["-n", topology.router, version, "route", "add", "local", family == .v4 ? "0.0.0.0/0" : "::/0", "dev", "lo", "table", "100"])
    }

    private static func iptables(_ family: NamespaceTopology.Family) -> String {
        family == .v4 ? "iptables" : "ip6tables"
    }
}
