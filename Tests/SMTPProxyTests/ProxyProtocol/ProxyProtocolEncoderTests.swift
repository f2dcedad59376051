import NIOCore
import SMTPProxy
import Testing

/// `ProxyHeaderEncoder`: exact bytes for each family and version, the family mapping for mixed
/// pairs, and round trips through `ProxyHeaderParser`.
@Suite struct ProxyProtocolEncoderTests {
    typealias F = ProxyHeaderFixtures

    private func encoded(_ version: ProxyProtocolVersion, _ source: SocketAddress?, _ destination: SocketAddress?) -> [UInt8] {
        Array(ProxyHeaderEncoder.encode(version, source: source, destination: destination).readableBytesView)
    }

    @Test func v1Lines() throws {
        #expect(String(decoding: encoded(.v1, try F.address("192.0.2.7", 51234), try F.address("198.51.100.1", 25)), as: UTF8.self)
            == "PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\r\n")
        #expect(String(decoding: encoded(.v1, try F.address("2001:db8::7", 1), try F.address("::1", 25)), as: UTF8.self)
            == "PROXY TCP6 2001:db8::7 ::1 1 25\r\n")
        #expect(String(decoding: encoded(.v1, nil, try F.address("::1", 25)), as: UTF8.self) == "PROXY UNKNOWN\r\n")
    }

    @Test func v2Bytes() throws {
        #expect(encoded(.v2, try F.address("192.0.2.7", 51234), try F.address("198.51.100.1", 25)) == F.v2(family: 0x11, body: F.inetBlock))
        #expect(encoded(.v2, try F.address("192.0.2.7", 1), nil) == F.v2(family: 0x00, body: []))
        let v6 = encoded(.v2, try F.address("2001:db8::7", 443), try F.address("::1", 25))
        let source: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [7]
        #expect(v6 == F.v2(family: 0x21, body: source + Array(repeating: 0, count: 15) + [1] + [0x01, 0xBB, 0x00, 0x19]))
    }

    /// The worst case, two full-length IPv6 addresses and ports, fits v1's 107 bytes.
    @Test func longestV1FitsTheLimit() throws {
        let widest = try F.address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535)
        #expect(encoded(.v1, widest, widest).count <= ProxyHeaderParser.maximumV1Length)
    }

    /// Mixed families: an IPv4-mapped address is unmapped (both IPv4); a real IPv6 one makes the
    /// IPv4 one mapped (both IPv6). Either way the client's address survives, in both versions.
    @Test(arguments: ProxyProtocolVersion.allCases)
    func mixedFamiliesAreMadeConsistent(_ version: ProxyProtocolVersion) throws {
        let cases: [(SocketAddress, SocketAddress, SocketAddress, SocketAddress)] = [
            (try F.address("192.0.2.7", 1), try F.address("::ffff:198.51.100.1", 25),
             try F.address("192.0.2.7", 1), try F.address("198.51.100.1", 25)),
            (try F.address("::ffff:192.0.2.7", 1), try F.address("198.51.100.1", 25),
             try F.address("192.0.2.7", 1), try F.address("198.51.100.1", 25)),
            (try F.address("192.0.2.7", 1), try F.address("2001:db8::1", 25),
             try F.address("::ffff:192.0.2.7", 1), try F.address("2001:db8::1", 25)),
            (try F.address("2001:db8::7", 1), try F.address("198.51.100.1", 25),
             try F.address("2001:db8::7", 1), try F.address("::ffff:198.51.100.1", 25)),
        ]
        for (source, destination, wantedSource, wantedDestination) in cases {
            let (header, _) = try #require(try F.feed(encoded(version, source, destination), cuts: []))
            #expect(header == ProxyHeader(version: version, source: wantedSource, destination: wantedDestination), "\(source) \(destination)")
        }
    }

    @Test(arguments: ProxyProtocolVersion.allCases)
    func roundTrips(_ version: ProxyProtocolVersion) throws {
        let pairs = [
            ("127.0.0.9", 40000, "127.0.0.1", 2525), ("0.0.0.0", 0, "255.255.255.255", 65535),
            ("::1", 1, "::1", 2), ("fe80::1", 25, "2001:db8:0:1:2:3:4:5", 587),
        ]
        for (sourceIP, sourcePort, destinationIP, destinationPort) in pairs {
            let source = try F.address(sourceIP, sourcePort)
            let destination = try F.address(destinationIP, destinationPort)
            let bytes = encoded(version, source, destination) + Array("QUIT\r\n".utf8)
            let (header, after) = try #require(try F.feed(bytes, cuts: []))
            #expect(header == ProxyHeader(version: version, source: source, destination: destination))
            #expect(after == Array("QUIT\r\n".utf8))
        }
        let (unknown, _) = try #require(try F.feed(encoded(version, nil, nil), cuts: []))
        #expect(unknown == ProxyHeader(version: version, command: .proxy))
    }
}
