import IPAddressing
import SMTPCore
import Testing

@Suite struct EndpointTests {
    /// From bytes, the text is the address's canonical form; from text, a numeric host is read
    /// once into the address rules match.
    @Test func addressAndHostAgree() {
        let fromBytes = Endpoint(address: IPAddress(ipv6High: 0x2001_0db8_0000_0000, low: 1), port: 25)
        #expect(fromBytes.host == "2001:db8::1" && fromBytes.description == "[2001:db8::1]:25")
        #expect(fromBytes == Endpoint(host: "2001:db8::1", port: 25))
        #expect(Endpoint(host: "192.0.2.1", port: 587).address == IPAddress(ipv4: 0xC000_0201))
        #expect(Endpoint(host: "fe80::1%eth0", port: 25).address == IPAddress("fe80::1"))
        #expect(Endpoint(host: "unknown", port: 0).address == nil)
        #expect(Endpoint(host: "mx.example.org", port: 25).description == "mx.example.org:25")
    }
}
