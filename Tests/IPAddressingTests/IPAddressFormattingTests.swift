import IPAddressing
import Testing

/// Formatting and round trips through bytes (what pcap decoding uses).
@Suite struct IPAddressFormattingTests {
    @Test(arguments: [
        ("192.0.2.7", "192.0.2.7"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:db8::1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  // RFC 5952 §4.2.3: the first of equal runs
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),  // §4.2.2: a single 0 stays
        ("::", "::"),
        ("::1", "::1"),
        ("fe80::", "fe80::"),
        ("::ffff:192.0.2.7", "::ffff:192.0.2.7"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
    ])
    func parsesAndFormats(text: String, canonical: String) {
        let address = IPAddress(text)
        #expect(address?.description == canonical)
        #expect(address.flatMap { IPAddress(bytes: $0.bytes) } == address)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::1", ":::", "::1%eth0", "[::1]"])
    func rejects(text: String) {
        #expect(IPAddress(text) == nil)
    }
}
