import IPAddressing
import IPAddressing
import Testing

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1", 4),
        ("0.0.0.0", "0.0.0.0", 4),
        ("255.255.255.255", "255.255.255.255", 4),
        ("2001:db8::1", "2001:db8::1", 16),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1", 16),
        ("::", "::", 16),
        ("::1", "::1", 16),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", 16),
        ("2001:db8:1:1:1:1:1:1", "2001:db8:1:1:1:1:1:1", 16),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1", 16),
        ("::ffff:c000:201", "::ffff:192.0.2.1", 16),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221", 16),
    ])
    func parsesAndFormats(text: String, canonical: String, byteCount: Int) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == canonical)
        #expect(address.bytes.count == byteCount)
    }

    @Test(arguments: [
        "", "192.0.2", "192.0.2.1.5", "192.0.2.256", "010.0.0.1", "1.2.3.-4", "192.0.2.1/24",
        "mx.example.org", ":::", "1::2::3", "12345::", "2001:db8:1:1:1:1:1:1:1", "::1:2:3:4:5:6:7:8",
        "2001:db8::g", "1.2.3.4::", "[::1]",
    ])
    func refusesNonAddresses(text: String) {
        #expect(IPAddress(text) == nil)
    }

    /// A host as a socket or a log spells it may carry the zone of a link-local address; plain
    /// address text (what rule files and CIDR blocks take) may not.
    @Test func hostTextDropsTheZone() throws {
        let address = try #require(IPAddress(host: "fe80::1%eth0"))
        #expect(address.description == "fe80::1")
        #expect(address.bytes.count == 16)
        #expect(IPAddress("fe80::1%eth0") == nil)
        #expect(IPAddress(host: "192.0.2.1%eth0") == nil)
        #expect(IPAddress(host: "mx.example.org") == nil)
    }

    @Test func mapsAndUnmapsIPv4() throws {
        let mapped = try #require(IPAddress("::ffff:203.0.113.9"))
        #expect(mapped.unmappedIPv4 == IPAddress("203.0.113.9"))
        #expect(IPAddress("203.0.113.9")?.ipv4Mapped == mapped)
        #expect(IPAddress("2001:db8::1")?.unmappedIPv4 == nil)
        #expect(IPAddress("2001:db8::1")?.ipv4Mapped == nil)
    }
}
