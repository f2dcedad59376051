import IPAddressing
import TestSupport
import NIOCore
import PcapCapture
import SMTPCore
import SMTPReplay
import Testing

/// The same session written as a capture of every supported link type replays to the same events:
/// libpcap's file-to-DLT mapping and our decoder agree for each of them.
@Suite("Replay of every link type")
struct LinkTypeReplayTests {
    /// The link-layer header to put before an IP packet (4 or 6), per link type.
    static func header(_ linkType: LinkType, version: UInt8) -> [UInt8] {
        let etherType: [UInt8] = version == 4 ? [0x08, 0x00] : [0x86, 0xDD]
        switch linkType {
        case .ethernet: return [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0x00, 0x2A] + etherType  // with a VLAN tag
        case .null: return version == 4 ? [2, 0, 0, 0] : [30, 0, 0, 0]  // little-endian, macOS AF_INET6
        case .loop: return version == 4 ? [0, 0, 0, 2] : [0, 0, 0, 24]  // network order, OpenBSD AF_INET6
        case .linuxSLL: return [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0] + etherType
        case .linuxSLL2: return etherType + [0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]
        default: return []
        }
    }

    static let cases: [(LinkType, String)] = [
        (.ethernet, "192.0.2.10"), (.ethernet, "2001:db8::a"), (.null, "192.0.2.10"), (.null, "2001:db8::a"), (.loop, "2001:db8::a"),
        (.linuxSLL, "192.0.2.10"), (.linuxSLL2, "2001:db8::a"), (.raw, "192.0.2.10"), (.raw, "2001:db8::a"), (.ipv4, "192.0.2.10"),
        (.ipv6, "2001:db8::a"),
    ]

    @Test(arguments: cases)
    func replays(linkType: LinkType, clientAddress: String) throws {
        let directory = try TemporaryDirectory()
        let isIPv6 = clientAddress.contains(":")
        var tcp = TCPStreamSynthesizer(
            client: TCPEndpoint(address: IPAddress(clientAddress)!, port: 40_000),
            server: TCPEndpoint(address: IPAddress(isIPv6 ? "2001:db8::19" : "198.51.100.25")!, port: 587))
        let time = PacketTimestamp(seconds: 1_764_403_200, nanoseconds: 123_456_789)
        var frames = tcp.open(at: time)
        frames += tcp.send(from: .server, Array("220 mx ESMTP\r\n".utf8), at: time)
        frames += tcp.send(from: .client, Array("EHLO x\r\n".utf8), at: time)
        frames += tcp.send(from: .server, Array("250 mx\r\n".utf8), at: time)
        frames += tcp.send(from: .client, Array("QUIT\r\n".utf8), at: time)
        frames += tcp.send(from: .server, Array("221 bye\r\n".utf8), at: time)
        let path = directory.file("capture.pcap")
        let writer = try PcapWriter.create(path: path, linkType: linkType, precision: .nanosecond)
        for frame in frames {
            let ip = Array(frame.bytes.dropFirst(14))  // the synthesizer's own Ethernet header
            try writer.write(Self.header(linkType, version: isIPv6 ? 6 : 4) + ip, timestamp: frame.timestamp)
        }
        try writer.close()

        let events = try CaptureReplay(path: path).events()
        #expect(events.map(\.summary) == [
            "start", "reply 220 greeting", "command EHLO forward", "reply 250 EHLO", "command QUIT forward", "reply 221 QUIT", "end quit",
        ])
        #expect(events.first?.timestamp == SMTPTimestamp(seconds: 1_764_403_200, nanoseconds: 123_456_789))
        if case .sessionStart(let client, _, _) = events.first?.kind { #expect(client.host == clientAddress) }
    }
}
