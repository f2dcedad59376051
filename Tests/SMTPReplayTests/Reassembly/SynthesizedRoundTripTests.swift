import IPAddressing
import TestSupport
import Foundation
import NIOCore
import PcapCapture
import SMTPReplay
import Testing

/// A session written by `TCPStreamSynthesizer` + `PcapWriter` reads back, through `PcapReader`,
/// `PacketDecoder` and `TCPReassembler`, to the same bytes; and tshark, as an outside judge, sees
/// an ordinary TCP stream with the same bytes, valid checksums and SMTP in it.
@Suite("Synthesized captures round-trip")
struct SynthesizedRoundTripTests {
    static let exchanges: [(TCPStreamSynthesizer.Sender, String)] = [
        (.server, "220 mx.example.org ESMTP\r\n"),
        (.client, "EHLO client.example.org\r\n"),
        (.server, "250-mx.example.org\r\n250-PIPELINING\r\n250 CHUNKING\r\n"),
        (.client, "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n"),
        (.server, "250 OK\r\n250 OK\r\n354 go ahead\r\n"),
        (.client, "Subject: round trip\r\n\r\n" + String(repeating: "a line of the body, long enough to need several segments\r\n", count: 200) + ".\r\n"),
        (.server, "250 queued\r\n"),
        (.client, "QUIT\r\n"),
        (.server, "221 bye\r\n"),
    ]

    struct Written {
        var path: String
        var client: [UInt8] = []
        var server: [UInt8] = []
    }

    static func write(_ directory: TemporaryDirectory, client: TCPEndpoint, server: TCPEndpoint, isn: UInt32) throws -> Written {
        var written = Written(path: directory.file("session-\(isn).pcap"))
        let writer = try PcapWriter.create(path: written.path, linkType: .ethernet)
        var tcp = TCPStreamSynthesizer(client: client, server: server, clientInitialSequence: isn, serverInitialSequence: isn &+ 0x8000_0000)
        var time = PacketTimestamp(seconds: 1_764_403_200)
        func emit(_ frames: [SynthesizedFrame]) throws {
            for frame in frames { try writer.write(frame) }
            time = time.advanced(byNanoseconds: 2_000_000)
        }
        try emit(tcp.open(at: time))
        for (sender, text) in exchanges {
            try emit(tcp.send(from: sender, Array(text.utf8), at: time))
            if sender == .client { written.client += Array(text.utf8) } else { written.server += Array(text.utf8) }
        }
        try emit(tcp.close(from: .server, at: time))
        try emit(tcp.close(from: .client, at: time))
        try writer.close()
        return written
    }

    static let cases: [(String, String, UInt32)] = [
        ("192.0.2.10", "198.51.100.25", 0x1000_0000),
        ("2001:db8::a", "2001:db8::19", 0xFFFF_F000),  // wraps inside the DATA body
        ("2001:db8::a", "198.51.100.25", 7),
    ]

    @Test(arguments: cases)
    func readsBackToTheSameBytes(client: String, server: String, isn: UInt32) throws {
        let directory = try TemporaryDirectory()
        let clientEndpoint = TCPEndpoint(address: IPAddress(client)!, port: 51_234)
        let serverEndpoint = TCPEndpoint(address: IPAddress(server)!, port: 25)
        let written = try Self.write(directory, client: clientEndpoint, server: serverEndpoint, isn: isn)

        let connections = try StreamCollector.connections(of: written.path)
        #expect(connections.count == 1)
        let connection = try #require(connections[0])
        #expect(connection.info.initiatorFromHandshake)
        #expect(connection.fromInitiator == written.client)
        #expect(connection.fromResponder == written.server)
        #expect(connection.gaps.isEmpty)
        #expect(connection.finished == .closed)

        // tshark's reassembly of stream 0 has the same bytes in each direction.
        let followed = try #require(try Tshark.follow(file: written.path, streams: [0])[0])
        #expect(followed.fromNode0 == written.client)
        #expect(followed.fromNode1 == written.server)
    }

    @Test func tsharkFindsValidChecksumsCleanTCPAndSMTP() throws {
        let directory = try TemporaryDirectory()
        let written = try Self.write(
            directory, client: TCPEndpoint(address: IPAddress("192.0.2.10")!, port: 51_234),
            server: TCPEndpoint(address: IPAddress("198.51.100.25")!, port: 25), isn: 0xFFFF_FF00)
        let fields = try Tshark.run([
            "-r", written.path, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
            "-T", "fields", "-E", "separator=|", "-e", "ip.checksum.status", "-e", "tcp.checksum.status", "-e", "tcp.analysis.flags",
            "-e", "smtp.req.command",
        ])
        let rows = fields.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        #expect(!rows.isEmpty)
        // 1 = "Good" in Wireshark's checksum status; no retransmission/lost-segment analysis flags.
        #expect(rows.allSatisfy { $0[0] == "1" && $0[1] == "1" }, "\(rows)")
        #expect(rows.allSatisfy { $0[2].isEmpty }, "\(rows.filter { !$0[2].isEmpty })")
        let commands = rows.map { $0[3] }.filter { !$0.isEmpty }
        #expect(commands == ["EHLO", "MAIL,RCPT,DATA", "QUIT"])
    }
}
