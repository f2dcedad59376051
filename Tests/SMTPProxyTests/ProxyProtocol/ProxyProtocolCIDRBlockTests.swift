import IPAddressing
import NIOCore
import SMTPProxy
import Testing

/// `CIDR` matching socket addresses (`--proxy-protocol-from`) and `ProxyProtocolSettings.allows`.
@Suite struct ProxyProtocolCIDRBlockTests {
    typealias F = ProxyHeaderFixtures

    @Test func matchesSocketAddresses() throws {
        let network = try CIDR(parsing: "10.0.0.0/8")
        #expect(network.contains(try F.address("10.200.3.4", 1)))
        #expect(!network.contains(try F.address("11.0.0.1", 1)))
        // A dual-stack listener reports IPv4 peers as IPv4-mapped IPv6.
        #expect(network.contains(try F.address("::ffff:10.1.2.3", 1)))
        #expect(!network.contains(try F.address("::ffff:11.1.2.3", 1)))
        #expect(!network.contains(try F.address("::a01:203", 1)))  // IPv4-compatible is not mapped

        let single = try CIDR(parsing: "192.0.2.7")
        #expect(single.description == "192.0.2.7/32")
        #expect(single.contains(try F.address("192.0.2.7", 9)))
        #expect(!single.contains(try F.address("192.0.2.8", 9)))

        let loopback6 = try CIDR(parsing: "::1/128")
        #expect(loopback6.contains(try F.address("::1", 25)))
        #expect(!loopback6.contains(try F.address("127.0.0.1", 25)))
        let documentation = try CIDR(parsing: "2001:db8::/32")
        #expect(documentation.contains(try F.address("2001:db8:ffff::1", 25)))
        #expect(!documentation.contains(try F.address("2001:db9::1", 25)))

        #expect(!network.contains(try SocketAddress(unixDomainSocketPath: "/tmp/x.sock")))
    }

    /// Addresses come from the `sockaddr` bytes, not from text.
    @Test func socketAddressesAreReadFromTheirBytes() throws {
        #expect(IPAddress(try F.address("192.0.2.7", 25)) == IPAddress("192.0.2.7"))
        #expect(IPAddress(try F.address("2001:db8::1", 25)) == IPAddress("2001:db8::1"))
        #expect(IPAddress(try F.address("::ffff:10.1.2.3", 25))?.unmappedIPv4 == IPAddress("10.1.2.3"))
        #expect(IPAddress(try SocketAddress(unixDomainSocketPath: "/tmp/x.sock")) == nil)
    }

    @Test(arguments: ["10.0.0.1/8", "10.0.0.0/33", "::1/129", "10.0.0.0/", "10.0.0.0/-1", "mx.example.org", "", "10.0.0.0/8/8", "fe80::1%eth0"])
    func badBlocksAreRefusedWithTheValue(_ text: String) {
        #expect(throws: CIDRError.self, "\(text)") { try CIDR(parsing: text) }
        do {
            _ = try CIDR(parsing: text)
        } catch {
            #expect(error.description.contains("'\(text)'") && !error.description.contains("\n"), "\(error)")
        }
    }

    @Test func settingsAllowEveryPeerOnlyWithoutBlocks() throws {
        #expect(ProxyProtocolSettings(acceptsHeader: true).allows(try F.address("203.0.113.9", 1)))
        let settings = ProxyProtocolSettings(acceptsHeader: true, allowedPeers: [try CIDR(parsing: "127.0.0.1"), try CIDR(parsing: "::1")])
        #expect(settings.allows(try F.address("127.0.0.1", 1)))
        #expect(settings.allows(try F.address("::1", 1)))
        #expect(!settings.allows(try F.address("127.0.0.9", 1)))
        #expect(!settings.allows(nil))
    }
}
