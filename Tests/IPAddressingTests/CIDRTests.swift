import IPAddressing
import IPAddressing
import Testing

@Suite struct CIDRTests {
    @Test(arguments: [
        ("203.0.113.0/24", "203.0.113.0/24"),
        ("192.0.2.7", "192.0.2.7/32"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("2001:db8::/32", "2001:db8::/32"),
        ("2001:db8::1", "2001:db8::1/128"),
        ("::/0", "::/0"),
        ("::ffff:0:0/96", "::ffff:0.0.0.0/96"),
    ])
    func parses(text: String, canonical: String) throws {
        #expect(try CIDR(parsing: text).description == canonical)
    }

    @Test(arguments: [
        ("203.0.113.5/24", "'203.0.113.5/24' has host bits set (did you mean 203.0.113.0/24 or 203.0.113.5?)"),
        ("2001:db8::1/32", "'2001:db8::1/32' has host bits set (did you mean 2001:db8::/32 or 2001:db8::1?)"),
        ("203.0.113.0/33", "'203.0.113.0/33' has an invalid prefix length (0…32 for IPv4)"),
        ("2001:db8::/129", "'2001:db8::/129' has an invalid prefix length (0…128 for IPv6)"),
        ("203.0.113.0/", "'203.0.113.0/' has an invalid prefix length (0…32 for IPv4)"),
        ("203.0.113.0/+8", "'203.0.113.0/+8' has an invalid prefix length (0…32 for IPv4)"),
        ("mx.example.org", "'mx.example.org' is not an IP address or CIDR block (e.g. 203.0.113.0/24, 2001:db8::/32)"),
        ("fe80::1%eth0", "'fe80::1%eth0' is not an IP address or CIDR block (e.g. 203.0.113.0/24, 2001:db8::/32)"),
    ])
    func refuses(text: String, message: String) {
        #expect(throws: CIDRError(message)) { try CIDR(parsing: text) }
    }

    @Test(arguments: [
        ("203.0.113.0/24", "203.0.113.200", true),
        ("203.0.113.0/24", "203.0.114.1", false),
        ("203.0.113.0/24", "::ffff:203.0.113.9", true),
        ("203.0.113.0/24", "::ffff:198.51.100.1", false),
        ("203.0.113.0/24", "2001:db8::1", false),
        ("198.51.100.128/25", "198.51.100.127", false),
        ("198.51.100.128/25", "198.51.100.128", true),
        ("192.0.2.7", "192.0.2.7", true),
        ("192.0.2.7", "192.0.2.8", false),
        ("0.0.0.0/0", "::ffff:8.8.8.8", true),
        ("2001:db8::/32", "2001:db8:ffff::1", true),
        ("2001:db8::/32", "2001:db9::1", false),
        ("2001:db8::/32", "192.0.2.1", false),
        ("::ffff:0:0/96", "192.0.2.1", true),
        ("2001:db8::1", "2001:db8::1", true),
    ])
    func contains(block: String, address: String, expected: Bool) throws {
        let cidr = try CIDR(parsing: block)
        let ip = try #require(IPAddress(address))
        #expect(cidr.contains(ip) == expected)
    }
}
