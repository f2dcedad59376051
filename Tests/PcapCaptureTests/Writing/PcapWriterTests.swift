import TestSupport
import NIOCore
import PcapCapture
import Testing

@Suite("PcapWriter")
struct PcapWriterTests {
    @Test func roundTripsPacketsTimestampsAndLengths() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("out.pcap")
        let writer = try PcapWriter.create(path: path, linkType: .linuxSLL2, snapshotLength: 64, precision: .nanosecond)
        let short = Array(0..<40).map(UInt8.init)
        let long = Array(0..<200).map { UInt8($0 & 0xFF) }
        try writer.write(short, timestamp: PacketTimestamp(seconds: 1, nanoseconds: 2))
        try writer.write(long, timestamp: PacketTimestamp(seconds: 3, nanoseconds: 999_999_999))
        try writer.write(CapturedPacket(timestamp: PacketTimestamp(seconds: 5), linkType: .linuxSLL2, bytes: short, originalLength: 1500))
        try writer.flush()
        try writer.close()

        let reader = try PcapReader.open(path: path)
        #expect(reader.linkType == .linuxSLL2)
        #expect(reader.snapshotLength == 64)
        let packets = try reader.readAll()
        #expect(packets.count == 3)
        #expect(Array(packets[0].data.readableBytesView) == short)
        #expect(packets[0].timestamp == PacketTimestamp(seconds: 1, nanoseconds: 2))
        // Cut to the snapshot length, the wire length kept.
        #expect(Array(packets[1].data.readableBytesView) == Array(long.prefix(64)))
        #expect(packets[1].originalLength == 200)
        #expect(packets[1].timestamp == PacketTimestamp(seconds: 3, nanoseconds: 999_999_999))
        #expect(packets[2].originalLength == 1500)
    }

    @Test func rawIPWritesAsLinktypeRawAndReadsBackAsRaw() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("raw.pcap")
        let writer = try PcapWriter.create(path: path, linkType: .raw)
        try writer.write(PacketBytes.ipv4(payload: PacketBytes.tcp()), timestamp: .zero)
        try writer.close()
        // The file header's link type (offset 20, little-endian here) is LINKTYPE_RAW, 101.
        let header = try directory.read(path)
        #expect(header[20] == 101)
        let reader = try PcapReader.open(path: path)
        #expect([LinkType.raw, .linktypeRaw].contains(reader.linkType))
        #expect(try reader.readAll().count == 1)
    }

    @Test func refusesMismatchedPacketsAndWritesAfterClose() throws {
        let directory = try TemporaryDirectory()
        let writer = try PcapWriter.create(path: directory.file("x.pcap"), linkType: .ethernet)
        #expect(throws: PcapError.self) { try writer.write(CapturedPacket(linkType: .raw, bytes: [0x45])) }
        #expect(throws: PcapError.self) { try writer.write([1, 2, 3], timestamp: .zero, originalLength: 2) }
        try writer.close()
        try writer.close()
        let error = #expect(throws: PcapError.self) { try writer.write([1], timestamp: .zero) }
        #expect(error?.kind == .writeFailed)
    }

    @Test func unwritablePathFailsToCreate() throws {
        let error = #expect(throws: PcapError.self) {
            try PcapWriter.create(path: "/nonexistent-directory/x.pcap")
        }
        #expect(error?.kind == .cannotCreate)
    }

    @Test func sharedBetweenThreadsRecordsStayWhole() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("shared.pcap")
        let writer = try PcapWriter.create(path: path)
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<200 {
                        try? writer.write(Array(repeating: UInt8(task), count: 60 + index % 7), timestamp: PacketTimestamp(seconds: Int64(index)))
                    }
                }
            }
        }
        try writer.close()
        let packets = try PcapReader.open(path: path).readAll()
        #expect(packets.count == 1600)
        #expect(packets.allSatisfy { packet in packet.data.readableBytesView.allSatisfy { $0 == packet.data.readableBytesView.first } })
    }
}
