import IPAddressing
import PcapCapture
import Testing

@Suite struct TCPEndpointTests {
    @Test func endpointsShowIPv6InBrackets() {
        #expect(TCPEndpoint(address: IPAddress("2001:db8::1")!, port: 25).description == "[2001:db8::1]:25")
        #expect(TCPEndpoint(address: IPAddress(ipv4: 0xC000_0207), port: 587).description == "192.0.2.7:587")
    }
}
