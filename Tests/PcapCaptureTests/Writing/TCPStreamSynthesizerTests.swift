import IPAddressing
import NIOCore
import PcapCapture
import Testing

@Suite("TCPStreamSynthesizer")
struct TCPStreamSynthesizerTests {
    static let client = TCPEndpoint(address: IPAddress("192.0.2.10")!, port: 51_234)
    static let server = TCPEndpoint(address: IPAddress("198.51.100.25")!, port: 25)
    static let t = PacketTimestamp(seconds: 1_764_403_200)

    func decode(_ frame: SynthesizedFrame) -> TCPSegment? {
        guard case .segment(let segment) = PacketDecoder.decode(CapturedPacket(timestamp: frame.timestamp, linkType: .ethernet, bytes: frame.bytes)) else {
            return nil
        }
        return segment
    }

    @Test func handshakeDataAndCloseCarryConsistentNumbers() throws {
        var tcp = TCPStreamSynthesizer(client: Self.client, server: Self.server, clientInitialSequence: 100, serverInitialSequence: 5000)
        let open = tcp.open(at: Self.t).compactMap(decode)
        #expect(open.map(\.flags) == [[.syn], [.syn, .ack], [.ack]])
        #expect(open.map(\.sequence) == [100, 5000, 101])
        #expect(open.map(\.acknowledgment) == [0, 101, 5001])
        #expect(open[0].source == Self.client && open[1].source == Self.server)

        let greeting = tcp.send(from: .server, Array("220 mx\r\n".utf8), at: Self.t).compactMap(decode)
        #expect(greeting.count == 2)  // data, then the client's ACK
        #expect(greeting[0].sequence == 5001 && greeting[0].flags == [.psh, .ack])
        #expect(greeting[1].acknowledgment == 5009 && greeting[1].source == Self.client)

        let close = tcp.close(from: .client, at: Self.t).compactMap(decode)
        #expect(close.map(\.flags) == [[.fin, .ack], [.ack]])
        #expect(close[0].sequence == 101 && close[1].acknowledgment == 102)
        #expect(tcp.close(from: .client, at: Self.t).isEmpty)
    }

    @Test func dataIsCutIntoSegmentsAndWrapsAround() throws {
        var tcp = TCPStreamSynthesizer(client: Self.client, server: Self.server, clientInitialSequence: 0xFFFF_FF00, maximumSegmentSize: 100)
        _ = tcp.open(at: Self.t)
        let body = (0..<1000).map { UInt8($0 % 251) }
        let segments = tcp.send(from: .client, body, at: Self.t).compactMap(decode).filter { $0.payload.readableBytes > 0 }
        #expect(segments.count == 10)
        #expect(segments.flatMap { Array($0.payload.readableBytesView) } == body)
        #expect(segments.first?.sequence == 0xFFFF_FF01)
        #expect(segments.last?.sequence == 0xFFFF_FF01 &+ 900)
        #expect(tcp.clientSequence == 0xFFFF_FF01 &+ 1000)
    }

    @Test(arguments: ["192.0.2.10", "2001:db8::a"])
    func checksumsAreValid(clientAddress: String) throws {
        let client = TCPEndpoint(address: IPAddress(clientAddress)!, port: 51_234)
        let server = TCPEndpoint(address: IPAddress(clientAddress.contains(":") ? "2001:db8::19" : "198.51.100.25")!, port: 25)
        var tcp = TCPStreamSynthesizer(client: client, server: server)
        var frames = tcp.open(at: Self.t)
        frames += tcp.send(from: .client, Array("EHLO odd-length\r\n!".utf8), at: Self.t)
        frames += tcp.reset(from: .server, at: Self.t)
        for frame in frames {
            let isIPv6 = frame.bytes[12] == 0x86
            let ip = Array(frame.bytes[14...])
            if !isIPv6 { #expect(Self.onesComplementSum(Array(ip[0..<20])) == 0xFFFF, "IPv4 header checksum") }
            let headerLength = isIPv6 ? 40 : 20
            let segment = Array(ip[headerLength...])
            let pseudo = isIPv6
                ? Array(ip[8..<40]) + [0, 0] + PacketBytes.be16(UInt16(segment.count)) + [0, 0, 0, 6]
                : Array(ip[12..<20]) + [0, 6] + PacketBytes.be16(UInt16(segment.count))
            #expect(Self.onesComplementSum(pseudo + segment) == 0xFFFF, "TCP checksum")
        }
    }

    @Test func mixedFamiliesAreWrittenAsIPv6() throws {
        var tcp = TCPStreamSynthesizer(client: TCPEndpoint(address: IPAddress("2001:db8::a")!, port: 1), server: Self.server)
        let syn = try #require(decode(tcp.open(at: Self.t)[0]))
        #expect(syn.destination.host == "::ffff:198.51.100.25")
    }

    /// The one's complement sum of 16-bit words; 0xFFFF over data that includes its own checksum.
    static func onesComplementSum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index < bytes.count {
            let high = UInt32(bytes[index]) << 8
            let low = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            sum += high | low
            index += 2
        }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return UInt16(sum)
    }
}
