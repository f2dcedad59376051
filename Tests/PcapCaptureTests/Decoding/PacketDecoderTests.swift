import TestSupport
import NIOCore
import PcapCapture
import Testing

@Suite("PacketDecoder")
struct PacketDecoderTests {
    typealias P = PacketBytes

    static let payload = Array("EHLO client.example.org\r\n".utf8)
    static let tcp = P.tcp(sequence: 0x0102_0304, acknowledgment: 0x0A0B_0C0D, flags: 0x018, payload: payload)
    static let ipv4 = P.ipv4(payload: tcp)
    static let ipv6 = P.ipv6(payload: tcp)

    func segment(_ bytes: [UInt8], _ linkType: LinkType, originalLength: Int? = nil) -> TCPSegment? {
        let packet = CapturedPacket(timestamp: PacketTimestamp(seconds: 7, nanoseconds: 8), linkType: linkType, bytes: bytes, originalLength: originalLength)
        guard case .segment(let segment) = PacketDecoder.decode(packet) else { return nil }
        return segment
    }

    func ignored(_ bytes: [UInt8], _ linkType: LinkType, originalLength: Int? = nil) -> IgnoredPacketReason? {
        let packet = CapturedPacket(linkType: linkType, bytes: bytes, originalLength: originalLength)
        guard case .ignored(let reason) = PacketDecoder.decode(packet) else { return nil }
        return reason
    }

    func expectIPv4Segment(_ segment: TCPSegment?, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let segment else {
            Issue.record("no TCP segment", sourceLocation: sourceLocation)
            return
        }
        #expect(segment.source.description == "192.0.2.10:40000", sourceLocation: sourceLocation)
        #expect(segment.destination.description == "198.51.100.25:25", sourceLocation: sourceLocation)
        #expect(segment.sequence == 0x0102_0304, sourceLocation: sourceLocation)
        #expect(segment.acknowledgment == 0x0A0B_0C0D, sourceLocation: sourceLocation)
        #expect(segment.flags == [.psh, .ack], sourceLocation: sourceLocation)
        #expect(segment.window == 512, sourceLocation: sourceLocation)
        #expect(Array(segment.payload.readableBytesView) == Self.payload, sourceLocation: sourceLocation)
        #expect(segment.missingPayloadBytes == 0, sourceLocation: sourceLocation)
        #expect(segment.timestamp == PacketTimestamp(seconds: 7, nanoseconds: 8), sourceLocation: sourceLocation)
    }

    // MARK: - Link layers

    @Test func ethernetIPv4() {
        expectIPv4Segment(segment(P.ethernet(type: 0x0800, payload: Self.ipv4), .ethernet))
    }

    @Test func ethernetPaddingIsNotPayload() {
        // A bare ACK is 40 bytes of IP; Ethernet pads the frame to 60 bytes (+ maybe an FCS).
        let ack = P.ipv4(payload: P.tcp(flags: 0x010))
        let frame = P.ethernet(type: 0x0800, payload: ack) + Array(repeating: 0, count: 6) + [0xDE, 0xAD, 0xBE, 0xEF]
        #expect(segment(frame, .ethernet)?.payload.readableBytes == 0)
    }

    @Test func ethernetVLANTags() {
        expectIPv4Segment(segment(P.ethernet(type: 0x0800, tags: [(0x8100, 42)], payload: Self.ipv4), .ethernet))
        // 802.1ad service tag outside a customer tag (QinQ), and the legacy 0x9100.
        expectIPv4Segment(segment(P.ethernet(type: 0x0800, tags: [(0x88A8, 100), (0x8100, 42)], payload: Self.ipv4), .ethernet))
        expectIPv4Segment(segment(P.ethernet(type: 0x0800, tags: [(0x9100, 7)], payload: Self.ipv4), .ethernet))
        #expect(segment(P.ethernet(type: 0x86DD, tags: [(0x8100, 42)], payload: Self.ipv6), .ethernet)?.source.description == "[2001:db8::a]:40000")
    }

    @Test func ethernetMPLSAndPPPoE() {
        // Two MPLS labels, the second with the bottom-of-stack bit.
        let mpls: [UInt8] = [0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40]
        expectIPv4Segment(segment(P.ethernet(type: 0x8847, payload: mpls + Self.ipv4), .ethernet))
        let pppoe: [UInt8] = [0x11, 0x00, 0x00, 0x01] + P.be16(UInt16(Self.ipv4.count + 2)) + [0x00, 0x21]
        expectIPv4Segment(segment(P.ethernet(type: 0x8864, payload: pppoe + Self.ipv4), .ethernet))
    }

    @Test func linuxCookedCaptures() {
        expectIPv4Segment(segment(P.sll(protocol: 0x0800, payload: Self.ipv4), .linuxSLL))
        expectIPv4Segment(segment(P.sll2(protocol: 0x0800, payload: Self.ipv4), .linuxSLL2))
        #expect(segment(P.sll(protocol: 0x86DD, payload: Self.ipv6), .linuxSLL)?.destination.description == "[2001:db8::19]:25")
        #expect(segment(P.sll2(protocol: 0x86DD, payload: Self.ipv6), .linuxSLL2)?.destination.description == "[2001:db8::19]:25")
    }

    @Test(arguments: [LinkType.raw, .rawOpenBSD, .linktypeRaw])
    func rawIP(linkType: LinkType) {
        expectIPv4Segment(segment(Self.ipv4, linkType))
        #expect(segment(Self.ipv6, linkType)?.source.host == "2001:db8::a")
    }

    @Test func rawIPv4AndIPv6LinkTypes() {
        expectIPv4Segment(segment(Self.ipv4, .ipv4))
        #expect(segment(Self.ipv6, .ipv6) != nil)
        // The link type promises one version; the other is malformed.
        #expect(ignored(Self.ipv6, .ipv4) == .malformed)
    }

    @Test(arguments: [LinkType.null, .loop])
    func loopbackInEitherByteOrder(linkType: LinkType) {
        expectIPv4Segment(segment(P.le32(2) + Self.ipv4, linkType))
        expectIPv4Segment(segment(P.be32(2) + Self.ipv4, linkType))
        // AF_INET6 differs by system: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux).
        for family: UInt32 in [24, 28, 30, 10] {
            #expect(segment(P.le32(family) + Self.ipv6, linkType) != nil, "AF \(family) little-endian")
            #expect(segment(P.be32(family) + Self.ipv6, linkType) != nil, "AF \(family) big-endian")
        }
        #expect(ignored(P.le32(17) + Self.ipv4, linkType) == .notIP)
    }

    @Test func unsupportedLinkType() {
        #expect(ignored(Self.ipv4, LinkType(rawValue: 105)) == .unsupportedLinkType)
    }

    // MARK: - IPv4

    @Test func ipv4Options() {
        let withOptions = P.ipv4(options: [0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00], payload: Self.tcp)
        expectIPv4Segment(segment(withOptions, .raw))
    }

    @Test func ipv4FragmentsAreIgnored() {
        // More fragments set, and a later fragment; "don't fragment" alone is a whole datagram.
        #expect(ignored(P.ipv4(fragment: 0x2000, payload: Self.tcp), .raw) == .ipFragment)
        #expect(ignored(P.ipv4(fragment: 0x0010, payload: Self.tcp), .raw) == .ipFragment)
        expectIPv4Segment(segment(P.ipv4(fragment: 0x4000, payload: Self.tcp), .raw))
        expectIPv4Segment(segment(P.ipv4(fragment: 0x0000, payload: Self.tcp), .raw))
    }

    @Test func ipv4TotalLengthZeroFromSegmentationOffload() {
        expectIPv4Segment(segment(P.ipv4(totalLength: 0, payload: Self.tcp), .raw))
    }

    @Test func ipv4NotTCP() {
        #expect(ignored(P.ipv4(protocol: 17, payload: [0, 53, 0, 53, 0, 8, 0, 0]), .raw) == .notTCP)
        #expect(ignored(P.ethernet(type: 0x0806, payload: Array(repeating: 0, count: 28)), .ethernet) == .notIP)
    }

    // MARK: - IPv6

    @Test func ipv6ExtensionHeadersAreSkipped() {
        let chain = P.ipv6Extension(next: 60)  // hop-by-hop → destination options
            + P.ipv6Extension(next: 43)  // → routing
            + P.ipv6Extension(next: 44, body: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])  // → fragment
            + P.ipv6Fragment(next: 6)  // atomic fragment → TCP
        let packet = P.ipv6(nextHeader: 0, payload: chain + Self.tcp)
        let decoded = segment(packet, .raw)
        #expect(decoded?.source.description == "[2001:db8::a]:40000")
        #expect(decoded.map { Array($0.payload.readableBytesView) } == Self.payload)
    }

    @Test func ipv6FragmentsAreIgnored() {
        #expect(ignored(P.ipv6(nextHeader: 44, payload: P.ipv6Fragment(next: 6, more: true) + Self.tcp), .raw) == .ipFragment)
        #expect(ignored(P.ipv6(nextHeader: 44, payload: P.ipv6Fragment(next: 6, offset: 185) + Self.tcp), .raw) == .ipFragment)
        #expect(ignored(P.ipv6(nextHeader: 59, payload: []), .raw) == .notTCP)
    }

    // MARK: - TCP

    @Test func tcpOptionsAndFlags() {
        let options: [UInt8] = [0x02, 0x04, 0x05, 0xB4, 0x01, 0x03, 0x03, 0x07, 0x04, 0x02, 0x00, 0x00]
        let syn = P.tcp(sequence: 0xFFFF_FFFF, acknowledgment: 0, flags: 0x1FF, options: options, payload: [0xAB])
        let decoded = segment(P.ipv4(payload: syn), .raw)
        #expect(decoded?.flags == [.fin, .syn, .rst, .psh, .ack, .urg, .ece, .cwr, .ns])
        #expect(decoded?.sequence == 0xFFFF_FFFF)
        #expect(decoded.map { Array($0.payload.readableBytesView) } == [0xAB])
    }

    @Test func payloadCutBySnapshotLengthIsCounted() {
        let packet = P.ethernet(type: 0x0800, payload: Self.ipv4)
        let captured = Array(packet.prefix(packet.count - 10))
        let decoded = segment(captured, .ethernet, originalLength: packet.count)
        #expect(decoded?.payload.readableBytes == Self.payload.count - 10)
        #expect(decoded?.missingPayloadBytes == 10)
        #expect(decoded?.payloadLength == Self.payload.count)
    }

    @Test func bogusIPLengthInAWholePacketIsClamped() {
        // The IP header claims more than the (not truncated) packet holds: only what is there counts.
        let decoded = segment(P.ipv4(totalLength: UInt16(Self.ipv4.count + 100), payload: Self.tcp), .raw)
        #expect(decoded?.payload.readableBytes == Self.payload.count)
        #expect(decoded?.missingPayloadBytes == 0)
    }

    @Test func truncatedAndMalformedHeaders() {
        // Cut by the snapshot length: the headers are incomplete.
        #expect(ignored(Array(Self.ipv4.prefix(30)), .raw, originalLength: Self.ipv4.count) == .truncated)
        #expect(ignored(Array(Self.ipv6.prefix(50)), .raw, originalLength: Self.ipv6.count) == .truncated)
        // The same bytes as a whole packet: the IP length lies and the TCP header does not fit.
        #expect(ignored(Array(Self.ipv4.prefix(30)), .raw) == .malformed)
        #expect(ignored([0x45, 0, 0], .raw) == .truncated)
        #expect(ignored(Array(P.ethernet(type: 0x0800, payload: []).prefix(10)), .ethernet) == .truncated)
        // IHL 4 (16 bytes) is below the minimum; a TCP data offset below 5 words likewise.
        var badIHL = Self.ipv4
        badIHL[0] = 0x44
        #expect(ignored(badIHL, .raw) == .malformed)
        var badOffset = Self.tcp
        badOffset[12] = 0x40
        #expect(ignored(P.ipv4(payload: badOffset), .raw) == .malformed)
        #expect(ignored([0x50] + Array(repeating: 0, count: 40), .raw) == .notIP)
    }

    @Test func randomBytesNeverTrap() {
        var random = SeededGenerator(seed: 0x5EED)
        let linkTypes: [LinkType] = [.ethernet, .null, .loop, .raw, .linktypeRaw, .linuxSLL, .linuxSLL2, .ipv4, .ipv6]
        for round in 0..<20_000 {
            let linkType = linkTypes[round % linkTypes.count]
            // Start from a valid packet and damage it, so that decoding gets deep.
            var bytes: [UInt8]
            switch linkType {
            case .ethernet: bytes = P.ethernet(type: round % 2 == 0 ? 0x0800 : 0x86DD, payload: round % 2 == 0 ? Self.ipv4 : Self.ipv6)
            case .null, .loop: bytes = P.le32(round % 2 == 0 ? 2 : 30) + (round % 2 == 0 ? Self.ipv4 : Self.ipv6)
            case .linuxSLL: bytes = P.sll(protocol: 0x0800, payload: Self.ipv4)
            case .linuxSLL2: bytes = P.sll2(protocol: 0x86DD, payload: Self.ipv6)
            case .ipv6: bytes = Self.ipv6
            default: bytes = Self.ipv4
            }
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
            _ = PacketDecoder.decode(CapturedPacket(linkType: linkType, bytes: bytes, originalLength: bytes.count + Int.random(in: 0...3, using: &random)))
        }
    }
}
