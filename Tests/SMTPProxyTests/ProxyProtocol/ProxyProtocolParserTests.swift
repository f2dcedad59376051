import NIOCore
import SMTPProxy
import Testing

/// `ProxyHeaderParser` against the HAProxy PROXY protocol spec (v1 §2.1, v2 §2.2): every
/// segmentation gives the same header and the same bytes after it; anything off-spec is refused.
@Suite struct ProxyProtocolParserTests {
    typealias F = ProxyHeaderFixtures
    static let smtp = Array("EHLO client.example\r\n".utf8)

    // MARK: - v1

    @Test func v1TCP4() throws {
        let bytes = Array("PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\r\n".utf8)
        let (header, after) = try #require(try F.feed(bytes + Self.smtp, cuts: []))
        #expect(header == ProxyHeader(version: .v1, source: try F.address("192.0.2.7", 51234), destination: try F.address("198.51.100.1", 25)))
        #expect(after == Self.smtp)
    }

    @Test func v1TCP6() throws {
        let bytes = Array("PROXY TCP6 2001:db8::7 ::ffff:198.51.100.1 0 65535\r\n".utf8)
        let (header, after) = try #require(try F.feed(bytes, cuts: []))
        #expect(header.source == (try F.address("2001:db8::7", 0)))
        #expect(header.destination == (try F.address("::ffff:198.51.100.1", 65535)))
        #expect(header.command == .proxy && header.version == .v1)
        #expect(after.isEmpty)
    }

    /// `UNKNOWN`: no addresses, and the rest of the line is ignored (spec §2.1), up to the limit.
    @Test(arguments: ["PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"])
    func v1Unknown(_ line: String) throws {
        let (header, after) = try #require(try F.feed(Array(line.utf8) + Self.smtp, cuts: []))
        #expect(header == ProxyHeader(version: .v1, command: .proxy))
        #expect(header.source == nil && header.destination == nil)
        #expect(after == Self.smtp)
    }

    /// 107 bytes (CRLF included) is the maximum: accepted; 108 is refused once byte 107 arrives,
    /// without waiting for a CRLF.
    @Test func v1LengthLimit() throws {
        let longest = Array(("PROXY UNKNOWN " + String(repeating: "x", count: 107 - 16) + "\r\n").utf8)
        #expect(longest.count == 107)
        #expect(try F.feed(longest, cuts: []) != nil)
        let tooLong = Array(("PROXY UNKNOWN " + String(repeating: "x", count: 107 - 15) + "\r\n").utf8)
        #expect(F.error(tooLong) == .tooLong(limit: 107))
        #expect(F.error(Array(tooLong.prefix(107))) == .tooLong(limit: 107))
        #expect(F.needsMore(Array(tooLong.prefix(106))))
    }

    static let malformedV1: [String] = [
        "PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\n",  // bare LF
        "PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\rX\n",  // CR not before LF
        "PROXY TCP4 192.0.2.7  198.51.100.1 51234 25\r\n",  // two spaces
        "PROXY TCP4 192.0.2.7 198.51.100.1 51234 25 \r\n",  // trailing space
        "PROXY TCP4 192.0.2.7 198.51.100.1 51234\r\n",  // a field missing
        "PROXY TCP4 192.0.2.7 198.51.100.1 51234 25 26\r\n",  // a field too many
        "PROXY TCP5 192.0.2.7 198.51.100.1 51234 25\r\n",
        "PROXY tcp4 192.0.2.7 198.51.100.1 51234 25\r\n",
        "PROXY TCP4 2001:db8::7 198.51.100.1 51234 25\r\n",  // IPv6 under TCP4
        "PROXY TCP6 192.0.2.7 2001:db8::1 51234 25\r\n",  // IPv4 under TCP6
        "PROXY TCP4 192.0.2.07 198.51.100.1 51234 25\r\n",  // leading zero (octal to some)
        "PROXY TCP4 192.0.2 198.51.100.1 51234 25\r\n",
        "PROXY TCP4 mx.example.org 198.51.100.1 51234 25\r\n",
        "PROXY TCP6 fe80::1%eth0 2001:db8::1 51234 25\r\n",  // zone id
        "PROXY TCP4 192.0.2.7 198.51.100.1 65536 25\r\n",
        "PROXY TCP4 192.0.2.7 198.51.100.1 051234 25\r\n",
        "PROXY TCP4 192.0.2.7 198.51.100.1 -1 25\r\n",
        "PROXY TCP4 192.0.2.7 198.51.100.1 +1 25\r\n",
        "PROXY TCP4 192.0.2.7 198.51.100.1 1234567 25\r\n",
        "PROXY TCP4 192.0.2.7 198.51.100.1 51234 \r\n",
        "PROXY \r\n",
        "PROXY TCP4 192.0.2.7 198.51.100.1 51234 2\u{0}5\r\n",
        "PROXY TCP4 192.0.2.7 198.51.100.1 51234 2\t5\r\n",
        "PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\u{E9}\r\n",
    ]

    @Test(arguments: malformedV1)
    func malformedV1IsRefused(_ line: String) {
        let error = F.error(Array(line.utf8))
        #expect(error != nil, "accepted: \(line.debugDescription)")
        if case .malformedV1 = error {} else { Issue.record("\(line.debugDescription): \(String(describing: error))") }
    }

    // MARK: - Not a header at all

    /// SMTP, TLS, HTTP, a lower-case v1, a v2 signature with one byte changed: refused as soon as
    /// the first wrong byte arrives (a single byte is enough to decide for a wrong first byte).
    @Test(arguments: [
        Array("EHLO client.example\r\n".utf8), [0x16, 0x03, 0x01, 0x02, 0x00], Array("GET / HTTP/1.1\r\n".utf8),
        Array("proxy TCP4 192.0.2.7 198.51.100.1 1 2\r\n".utf8), Array("PROXYTCP4\r\n".utf8), Array("\r\n\r\nQUIT\r\n".utf8),
    ])
    func garbageIsRefusedAtOnce(_ bytes: [UInt8]) {
        #expect(F.error(bytes) == .notAProxyHeader)
        if bytes[0] != UInt8(ascii: "P") && bytes[0] != 0x0D {
            #expect(F.error([bytes[0]]) == .notAProxyHeader)
        }
    }

    @Test func everyV2SignatureByteIsChecked() {
        let header = F.v2(family: 0x11, body: F.inetBlock)
        for index in 0..<12 {
            var bytes = header
            bytes[index] ^= 0x20
            #expect(F.error(Array(bytes.prefix(index + 1))) == .notAProxyHeader, "signature byte \(index)")
        }
    }

    // MARK: - v2

    @Test func v2InetWithTLVs() throws {
        let bytes = F.v2(family: 0x11, body: F.inetBlock + F.tlvs)
        let (header, after) = try #require(try F.feed(bytes + Self.smtp, cuts: []))
        #expect(header == ProxyHeader(version: .v2, source: try F.address("192.0.2.7", 51234), destination: try F.address("198.51.100.1", 25)))
        #expect(after == Self.smtp)
    }

    @Test func v2Inet6() throws {
        let source: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [7]
        let destination: [UInt8] = Array(repeating: 0, count: 15) + [1]
        let bytes = F.v2(family: 0x21, body: source + destination + [0x01, 0xBB, 0x00, 0x19])
        let (header, _) = try #require(try F.feed(bytes, cuts: []))
        #expect(header == ProxyHeader(version: .v2, source: try F.address("2001:db8::7", 443), destination: try F.address("::1", 25)))
    }

    /// LOCAL (a balancer's health check): addresses ignored even when present; AF_UNSPEC and
    /// AF_UNIX: no IP addresses. The whole length is consumed in each case.
    @Test(arguments: [
        (UInt8(0x20), UInt8(0x11), F.inetBlock, ProxyHeader.Command.local),
        (0x20, 0x00, [], .local),
        (0x21, 0x00, [], .proxy),
        (0x21, 0x00, [1, 2, 3], .proxy),
        (0x21, 0x31, Array(repeating: 0x41, count: 216), .proxy),
        (0x21, 0x31, Array(repeating: 0x41, count: 216) + F.tlvs, .proxy),
    ])
    func v2WithoutAddresses(_ versionCommand: UInt8, _ family: UInt8, _ body: [UInt8], _ command: ProxyHeader.Command) throws {
        let bytes = F.v2(versionCommand: versionCommand, family: family, body: body)
        let (header, after) = try #require(try F.feed(bytes + Self.smtp, cuts: []))
        #expect(header == ProxyHeader(version: .v2, command: command))
        #expect(after == Self.smtp)
    }

    @Test func malformedV2IsRefused() {
        #expect(F.error(F.v2(versionCommand: 0x11, family: 0x11, body: F.inetBlock)) == .unsupportedVersion(1))
        #expect(F.error(F.v2(versionCommand: 0x31, family: 0x11, body: F.inetBlock)) == .unsupportedVersion(3))
        #expect(F.error(F.v2(versionCommand: 0x22, family: 0x11, body: F.inetBlock)) == .unsupportedCommand(2))
        #expect(F.error(F.v2(family: 0x12, body: F.inetBlock)) == .unsupportedFamily(0x12))  // datagram
        #expect(F.error(F.v2(family: 0x41, body: F.inetBlock)) == .unsupportedFamily(0x41))
        #expect(F.error(F.v2(family: 0x11, body: Array(F.inetBlock.prefix(8)))) == .addressBlockTooShort(family: 1, length: 8))
        #expect(F.error(F.v2(family: 0x21, body: F.inetBlock)) == .addressBlockTooShort(family: 2, length: 12))
        // A TLV whose length runs past the header, and one cut inside its type/length.
        #expect(F.error(F.v2(family: 0x11, body: F.inetBlock + [0x01, 0x00, 0x09, 0x41])) == .malformedTLV(offset: 28))
        #expect(F.error(F.v2(family: 0x11, body: F.inetBlock + F.tlvs + [0x04, 0x00])) == .malformedTLV(offset: 28 + F.tlvs.count))
    }

    /// The length field is checked against the bound as soon as the fixed 16 bytes are in.
    @Test func v2LengthIsBounded() {
        let announced = F.v2Signature + [0x21, 0x11, 0x10, 0x00]  // 4096 bytes to follow
        #expect(F.error(announced) == .tooLong(limit: 4096))
        let small = ProxyHeaderParser(maximumV2Length: 300)
        #expect(F.error(F.v2(family: 0x11, body: F.inetBlock + Array(repeating: 0, count: 300)), parser: small) == .tooLong(limit: 300))
        #expect(F.needsMore(F.v2Signature + [0x21, 0x11, 0x0F, 0xF0]))
    }

    @Test func truncatedHeadersWaitForMore() {
        let v1 = Array("PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\r\n".utf8)
        let v2 = F.v2(family: 0x11, body: F.inetBlock + F.tlvs)
        for length in 1..<v1.count { #expect(F.needsMore(Array(v1.prefix(length))), "v1 prefix \(length)") }
        for length in 1..<v2.count { #expect(F.needsMore(Array(v2.prefix(length))), "v2 prefix \(length)") }
    }

    // MARK: - Segmentation

    static let segmentationCases: [[UInt8]] = [
        Array("PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\r\n".utf8),
        Array("PROXY TCP6 2001:db8::7 ::1 51234 25\r\n".utf8),
        Array("PROXY UNKNOWN\r\n".utf8),
        F.v2(family: 0x11, body: F.inetBlock + F.tlvs),
        F.v2(versionCommand: 0x20, family: 0x00, body: []),
    ]

    /// Whole, byte by byte, and every split into two and three pieces: the same header and the
    /// same bytes after it.
    @Test(arguments: segmentationCases)
    func everySegmentationGivesTheSameResult(_ header: [UInt8]) throws {
        let bytes = header + Self.smtp
        let (expected, expectedAfter) = try #require(try F.feed(bytes, cuts: []))
        #expect(expectedAfter == Self.smtp)
        var segmentations: [[Int]] = [Array(1..<bytes.count)]
        for first in 1..<bytes.count {
            segmentations.append([first])
            for second in first..<bytes.count { segmentations.append([first, second]) }
        }
        for cuts in segmentations {
            let result = try F.feed(bytes, cuts: cuts)
            guard let (found, after) = result, found == expected, after == Self.smtp else {
                Issue.record("cuts \(cuts.count > 3 ? "byte by byte" : "\(cuts)"): \(String(describing: result))")
                return
            }
        }
    }
}
