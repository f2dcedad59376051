import Foundation
import Testing

/// Three network namespaces in a row, for the transparent interception tests:
///
///     client ns                    router ns                          server ns
///     eth0 10.77.1.2/24  ── veth ── to-client 10.77.1.1/24
///          fd77:1::2/64                  fd77:1::1/64
///                                   to-server 10.77.2.1/24  ── veth ── eth0 10.77.2.2/24
///                                             fd77:2::1/64                 fd77:2::2/64
///
/// The client and the server route everything through the router, which forwards (IPv4 and
/// IPv6) and runs the proxy. The veths are created inside the namespaces, so nothing (no link,
/// address, rule or sysctl) touches the host's own namespace; `remove()` deletes the three
/// namespaces, which takes their links, routes and iptables/nft rules with them.
final class NamespaceTopology: @unchecked Sendable {
    enum Family: Sendable {
        case v4
        case v6
    }

    struct Addresses: Sendable {
        var client: String
        var routerClientSide: String
        var routerServerSide: String
        var server: String
    }

    static let v4 = Addresses(client: "10.77.1.2", routerClientSide: "10.77.1.1", routerServerSide: "10.77.2.1", server: "10.77.2.2")
    static let v6 = Addresses(client: "fd77:1::2", routerClientSide: "fd77:1::1", routerServerSide: "fd77:2::1", server: "fd77:2::2")

    static func addresses(_ family: Family) -> Addresses { family == .v4 ? v4 : v6 }

    /// The router's interface towards the client (where interception rules match).
    static let clientSideInterface = "to-client"

    let client: String
    let router: String
    let server: String

    private static let counter = LockedBox(0)

    struct Failure: Error, CustomStringConvertible { var description: String }

    init() throws {
        let number = Self.counter.withLock { value in
            value += 1
            return value
        }
        let prefix = "tp\(getpid())-\(number)"
        client = "\(prefix)-client"
        router = "\(prefix)-router"
        server = "\(prefix)-server"
        do {
            try build()
        } catch {
            remove()
            throw error
        }
    }

    private func build() throws {
        for namespace in [client, router, server] {
            try ip(["netns", "add", namespace])
            try ip(["-n", namespace, "link", "set", "lo", "up"])
        }
        // Before the links exist, so they inherit the defaults: forwarding, no reverse-path
        // filter (TPROXY and client-address upstreams see "foreign" addresses).
        try sysctl(router, [
            "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
            "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
        ])
        try link(router: "to-client", peer: client)
        try link(router: "to-server", peer: server)
        let v4 = Self.v4
        let v6 = Self.v6
        try address(client, "eth0", v4.client + "/24", v6.client + "/64")
        try address(router, "to-client", v4.routerClientSide + "/24", v6.routerClientSide + "/64")
        try address(router, "to-server", v4.routerServerSide + "/24", v6.routerServerSide + "/64")
        try address(server, "eth0", v4.server + "/24", v6.server + "/64")
        try route(client, via: v4.routerClientSide, v6.routerClientSide)
        try route(server, via: v4.routerServerSide, v6.routerServerSide)
    }

    private func link(router name: String, peer namespace: String) throws {
        try ip(["-n", router, "link", "add", name, "type", "veth", "peer", "name", "eth0", "netns", namespace])
        try ip(["-n", router, "link", "set", name, "up"])
        try ip(["-n", namespace, "link", "set", "eth0", "up"])
    }

    /// `nodad`: the IPv6 address is usable at once, no duplicate-address-detection wait.
    private func address(_ namespace: String, _ device: String, _ v4: String, _ v6: String) throws {
        try ip(["-n", namespace, "addr", "add", v4, "dev", device])
        try ip(["-n", namespace, "addr", "add", v6, "dev", device, "nodad"])
    }

    private func route(_ namespace: String, via v4: String, _ v6: String) throws {
        try ip(["-n", namespace, "route", "add", "default", "via", v4])
        try ip(["-n", namespace, "-6", "route", "add", "default", "via", v6])
    }

    private func sysctl(_ namespace: String, _ settings: [String]) throws {
        try run(in: namespace, "sysctl", ["-qw"] + settings)
    }

    /// `ip ARGS`; throws with its standard error when it fails.
    func ip(_ arguments: [String]) throws {
        try Self.check(ExternalProcess.run("ip", arguments), "ip \(arguments.joined(separator: " "))")
    }

    /// Runs `program` inside `namespace`; throws when it fails.
    @discardableResult
    func run(in namespace: String, _ program: String, _ arguments: [String], input: String? = nil) throws -> ExternalProcess.Result {
        let result = try execute(in: namespace, program, arguments, input: input)
        try Self.check(result, "\(program) \(arguments.joined(separator: " ")) in \(namespace)")
        return result
    }

    /// Runs `program` inside `namespace`, whatever its exit status.
    func execute(in namespace: String, _ program: String, _ arguments: [String], input: String? = nil) throws -> ExternalProcess.Result {
        let path = try ExternalProcess.locate(program)
        return try ExternalProcess.run("ip", ["netns", "exec", namespace, path] + arguments, input: input.map { Data($0.utf8) })
    }

    private static func check(_ result: ExternalProcess.Result, _ what: String) throws {
        guard result.status == 0 else { throw Failure(description: "\(what): exit \(result.status): \(result.error)\(result.output)") }
    }

    /// Deletes the namespaces (and with them everything configured inside).
    func remove() {
        for namespace in [client, router, server] {
            _ = try? ExternalProcess.run("ip", ["netns", "del", namespace])
        }
    }
}
