import TestSupport
import NIOCore
import PcapCapture
import Testing

@Suite("PcapReader")
struct PcapReaderTests {
    static let frames: [[UInt8]] = (0..<3).map { index in
        PacketBytes.ethernet(type: 0x0800, payload: PacketBytes.ipv4(payload: PacketBytes.tcp(sequence: UInt32(index), payload: Array(repeating: UInt8(0x41 + index), count: 100))))
    }

    /// A three-packet pcap written by libpcap itself.
    static func writeCapture(_ directory: TemporaryDirectory, precision: TimestampPrecision = .microsecond) throws -> String {
        let path = directory.file("three.pcap")
        let writer = try PcapWriter.create(path: path, linkType: .ethernet, precision: precision)
        for (index, frame) in frames.enumerated() {
            try writer.write(frame, timestamp: PacketTimestamp(seconds: 1_700_000_000 + Int64(index), nanoseconds: 123_456_789))
        }
        try writer.close()
        return path
    }

    @Test func readsEveryPacketThenNil() throws {
        let directory = try TemporaryDirectory()
        let reader = try PcapReader.open(path: try Self.writeCapture(directory))
        #expect(reader.linkType == .ethernet)
        let packets = try reader.readAll()
        #expect(packets.map { Array($0.data.readableBytesView) } == Self.frames)
        #expect(packets.allSatisfy { $0.originalLength == $0.data.readableBytes && $0.linkType == .ethernet })
        #expect(reader.packetsRead == 3)
        #expect(try reader.next() == nil)
    }

    @Test func microsecondFilesReadWithNanosecondTimestamps() throws {
        let directory = try TemporaryDirectory()
        let packets = try PcapReader.open(path: try Self.writeCapture(directory, precision: .microsecond)).readAll()
        #expect(packets.map(\.timestamp) == (0..<3).map { PacketTimestamp(seconds: 1_700_000_000 + Int64($0), nanoseconds: 123_456_000) })
    }

    @Test func nanosecondFilesKeepTheirNanoseconds() throws {
        let directory = try TemporaryDirectory()
        let packets = try PcapReader.open(path: try Self.writeCapture(directory, precision: .nanosecond)).readAll()
        #expect(packets.map(\.timestamp) == (0..<3).map { PacketTimestamp(seconds: 1_700_000_000 + Int64($0), nanoseconds: 123_456_789) })
        // The file says so in its magic number.
        let magic = try directory.read(directory.file("three.pcap")).prefix(4)
        #expect(Array(magic) == [0x4D, 0x3C, 0xB2, 0xA1] || Array(magic) == [0xA1, 0xB2, 0x3C, 0x4D])
    }

    @Test func truncatedFileGivesItsPacketsThenAnError() throws {
        let directory = try TemporaryDirectory()
        let whole = try directory.read(try Self.writeCapture(directory))
        // Cut in the middle of the third record's data.
        let path = try directory.write("cut.pcap", Array(whole.prefix(whole.count - 40)))
        let reader = try PcapReader.open(path: path)
        #expect(try reader.next() != nil)
        #expect(try reader.next() != nil)
        let error = #expect(throws: PcapError.self) { try reader.next() }
        #expect(error?.kind == .readFailed)
        #expect(error?.packetsRead == 2)
        #expect(error?.message.contains("truncated") == true)
        #expect(error?.description.hasPrefix(path + ": ") == true)
        // After the error the reader is done, not stuck.
        #expect(try reader.next() == nil)
    }

    @Test func corruptRecordLengthInTheCorpus() throws {
        let reader = try PcapReader.open(path: Corpus.path("suricata-verify__smtp-to-comma.pcap"))
        var count = 0
        let error = #expect(throws: PcapError.self) {
            while try reader.next() != nil { count += 1 }
        }
        #expect(count == 18)
        #expect(error?.kind == .readFailed)
        #expect(error?.message.contains("invalid packet capture length") == true)
    }

    @Test func missingEmptyAndForeignFilesFailToOpen() throws {
        let directory = try TemporaryDirectory()
        let missing = #expect(throws: PcapError.self) { try PcapReader.open(path: directory.file("nope.pcap")) }
        #expect(missing?.kind == .cannotOpen)
        #expect(missing?.message.contains("No such file") == true)

        let empty = #expect(throws: PcapError.self) { try PcapReader.open(path: try directory.write("empty.pcap", [])) }
        #expect(empty?.kind == .cannotOpen)

        let text = #expect(throws: PcapError.self) {
            try PcapReader.open(path: try directory.write("mail.txt", Array("220 mx.example.org ESMTP\r\n".utf8)))
        }
        #expect(text?.kind == .cannotOpen)
        #expect(text?.message.contains("unknown file format") == true)

        // Only a file header: a valid, empty capture.
        let header = try directory.read(try Self.writeCapture(directory)).prefix(24)
        let reader = try PcapReader.open(path: try directory.write("header-only.pcap", Array(header)))
        #expect(try reader.next() == nil)
    }

    @Test func readsPcapngAndLoopbackCaptures() throws {
        let pcapng = try PcapReader.open(path: Corpus.path("chrissanders-packets__mail_sender_client_1.pcapng"))
        #expect(pcapng.linkType == .ethernet)
        #expect(try pcapng.readAll().count == 23)

        let loopback = try PcapReader.open(path: Corpus.path("suricata-verify__smtp-rset.pcap"))
        #expect(loopback.linkType == .null)
        let packets = try loopback.readAll()
        #expect(packets.count == 42)
        #expect(packets.allSatisfy { if case .segment = PacketDecoder.decode($0) { true } else { false } })
    }

    @Test func reportsItsPositionInTheFile() throws {
        let directory = try TemporaryDirectory()
        let path = try Self.writeCapture(directory)
        let reader = try PcapReader.open(path: path)
        let start = reader.fileOffset ?? -1
        _ = try reader.readAll()
        #expect(start == 24)
        #expect(reader.fileOffset == Int64(try directory.read(path).count))
    }
}
