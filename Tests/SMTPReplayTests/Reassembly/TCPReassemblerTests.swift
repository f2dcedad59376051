import IPAddressing
import TestSupport
import NIOCore
import PcapCapture
import SMTPCore
@testable import SMTPReplay
import Testing

@Suite("TCPReassembler")
struct TCPReassemblerTests {
    func run(_ segments: [TCPSegment], bufferLimit: Int = 4 << 20) -> [Int: StreamCollector.Connection] {
        var collector = StreamCollector(bufferLimit: bufferLimit)
        for segment in segments { collector.process(segment) }
        collector.finish()
        return collector.connections
    }

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func handshakeDataAndFinBothWays() {
        var s = Segments()
        let connections = run([
            s.segment(.a, seq: 100, flags: [.syn]),
            s.segment(.b, seq: 900, ack: 101, flags: [.syn, .ack]),
            s.segment(.a, seq: 101, ack: 901),
            s.segment(.b, seq: 901, ack: 101, "220 mx\r\n"),
            s.segment(.a, seq: 101, ack: 909, "QUIT\r\n"),
            s.segment(.b, seq: 909, ack: 107, "221 bye\r\n"),
            s.segment(.b, seq: 918, ack: 107, flags: [.fin, .ack]),
            s.segment(.a, seq: 107, ack: 919, flags: [.fin, .ack]),
            s.segment(.b, seq: 919, ack: 108),
        ])
        let connection = connections[0]!
        #expect(connection.info.initiator == s.a && connection.info.initiatorFromHandshake)
        #expect(text(connection.fromInitiator) == "QUIT\r\n")
        #expect(text(connection.fromResponder) == "220 mx\r\n221 bye\r\n")
        #expect(connection.closed == [.fromResponder, .fromInitiator])
        #expect(connection.finished == .closed)
        #expect(connection.gaps.isEmpty)
    }

    @Test func outOfOrderSegmentsAreDeliveredInOrder() {
        var s = Segments()
        let connections = run([
            s.segment(.a, seq: 0, flags: [.syn]),
            s.segment(.a, seq: 11, ack: 1, "CCC"),
            s.segment(.a, seq: 6, ack: 1, "BBBBB"),
            s.segment(.a, seq: 1, ack: 1, "AAAAA"),
        ])
        #expect(text(connections[0]!.fromInitiator) == "AAAAABBBBBCCC")
    }

    @Test func duplicatesAreDeliveredOnce() {
        var s = Segments()
        let first = s.segment(.a, seq: 1, ack: 1, "HELO x\r\n")
        let connections = run([first, first, s.segment(.a, seq: 9, ack: 1, "QUIT\r\n"), first])
        #expect(text(connections[0]!.fromInitiator) == "HELO x\r\nQUIT\r\n")
    }

    @Test func firstReceivedCopyWinsOverConflictingOverlaps() {
        var s = Segments()
        let connections = run([
            s.segment(.a, seq: 1, ack: 1, "AAAA"),
            // Buffered out of order, then contradicted by a later segment covering it.
            s.segment(.a, seq: 9, ack: 1, "CCCC"),
            s.segment(.a, seq: 5, ack: 1, "bbbbXXXXdd"),
            // Contradicts bytes already delivered.
            s.segment(.a, seq: 3, ack: 1, "zz"),
        ])
        let connection = connections[0]!
        #expect(text(connection.fromInitiator) == "AAAAbbbbCCCCdd")
        // Four buffered bytes and two delivered ones were contradicted.
        #expect(connection.conflicts.map(\.1) == [4, 2])
    }

    @Test func sequenceNumbersWrapAround() {
        var s = Segments()
        let connections = run([
            s.segment(.a, seq: 0xFFFF_FFF9, flags: [.syn]),
            s.segment(.a, seq: 0xFFFF_FFFA, ack: 1, "0123"),
            // Out of order across the wrap: starts at 2 (after 0xFFFFFFFE, 0xFFFFFFFF, 0, 1).
            s.segment(.a, seq: 2, ack: 1, "89"),
            s.segment(.a, seq: 0xFFFF_FFFE, ack: 1, "4567"),
            s.segment(.a, seq: 4, ack: 1, flags: [.fin, .ack]),
        ])
        #expect(text(connections[0]!.fromInitiator) == "0123456789")
        #expect(connections[0]!.closed == [.fromInitiator])
    }

    @Test func holeBeforeFinBecomesAGap() {
        var s = Segments()
        let connections = run([
            s.segment(.a, seq: 0, flags: [.syn]),
            s.segment(.a, seq: 1, ack: 1, "AAAA"),
            s.segment(.a, seq: 15, ack: 1, "CCCC"),
            s.segment(.a, seq: 19, ack: 1, flags: [.fin, .ack]),
        ])
        let connection = connections[0]!
        #expect(text(connection.fromInitiator) == "AAAACCCC")
        #expect(connection.gaps.map(\.count) == [10])
        #expect(connection.gaps.first?.at == 4)
        #expect(connection.finished == .captureEnded)
    }

    /// A handshake, bytes 1-4 and 15-18 from the client, then the server's acknowledgment of all
    /// 18 (with `reply`): bytes 5-14 are not in the capture (yet).
    static func acknowledgedHole(_ s: inout Segments, reply: String) -> [TCPSegment] {
        [
            s.segment(.a, seq: 0, flags: [.syn]),
            s.segment(.b, seq: 0, ack: 1, flags: [.syn, .ack]),
            s.segment(.a, seq: 1, ack: 1, "AAAA"),
            s.segment(.a, seq: 15, ack: 1, "CCCC"),
            s.segment(.b, seq: 1, ack: 19, reply),
        ]
    }

    /// Two queues, one per direction (a SPAN port, `tcpdump -i any`): the server's ACK of bytes
    /// 5-14, with its reply, is captured before those bytes. Replay waits for them: no gap, and
    /// the reply comes after the data it answers.
    @Test func anAcknowledgmentCapturedBeforeItsDataWaitsForIt() {
        var s = Segments()
        var collector = StreamCollector()
        for segment in Self.acknowledgedHole(&s, reply: "250 ok\r\n") { collector.process(segment) }
        #expect(collector.connections[0]!.gaps.isEmpty)
        #expect(collector.connections[0]!.fromResponder.isEmpty, "the reply waits for the data it acknowledges")
        collector.process(s.segment(.a, seq: 5, ack: 1, "BBBBBBBBBB"))
        #expect(collector.connections[0]!.gaps.isEmpty)
        #expect(text(collector.connections[0]!.fromInitiator) == "AAAABBBBBBBBBBCCCC")
        #expect(text(collector.connections[0]!.fromResponder) == "250 ok\r\n")
        #expect(collector.reassembler.statistics.heldSegments == 1)
    }

    /// The acknowledged bytes never come: once a second of capture time has passed they are a
    /// gap, and the held reply is delivered after it.
    @Test func anAcknowledgedHoleBecomesAGapWhenTheDataDoesNotCome() {
        var s = Segments()
        var collector = StreamCollector()
        for segment in Self.acknowledgedHole(&s, reply: "250 ok\r\n") + [s.segment(.a, seq: 19, ack: 1, "DDDD")] {
            collector.process(segment)
        }
        #expect(collector.connections[0]!.gaps.isEmpty, "still waiting")
        s.time = s.time.advanced(byNanoseconds: 1_500_000_000)
        collector.process(s.segment(.a, seq: 23, ack: 1, "EEEE"))
        #expect(collector.connections[0]!.gaps.map(\.count) == [10])
        #expect(text(collector.connections[0]!.fromInitiator) == "AAAACCCCDDDDEEEE")
        #expect(text(collector.connections[0]!.fromResponder) == "250 ok\r\n")
    }

    /// At the end of the capture a held acknowledgment settles its hole as a gap.
    @Test func anAcknowledgedHoleBecomesAGapAtTheEnd() {
        var s = Segments()
        var collector = StreamCollector()
        for segment in Self.acknowledgedHole(&s, reply: "") { collector.process(segment) }
        #expect(collector.connections[0]!.gaps.isEmpty)
        collector.finish()
        #expect(collector.connections[0]!.gaps.map(\.count) == [10])
        #expect(text(collector.connections[0]!.fromInitiator) == "AAAACCCC")
    }

    @Test func bufferLimitDeclaresTheOldestHoleAGap() {
        var s = Segments()
        var collector = StreamCollector(bufferLimit: 8)
        collector.process(s.segment(.a, seq: 0, flags: [.syn]))
        collector.process(s.segment(.a, seq: 11, ack: 1, "BBBBB"))
        #expect(collector.connections[0]!.gaps.isEmpty)
        collector.process(s.segment(.a, seq: 16, ack: 1, "CCCCC"))
        #expect(collector.connections[0]!.gaps.map(\.count) == [10])
        #expect(text(collector.connections[0]!.fromInitiator) == "BBBBBCCCCC")
    }

    @Test func acknowledgedBytesMissingAtTheEndAreAGap() {
        // Only the client's side was captured, after the handshake: its ACKs prove 300 server bytes.
        var s = Segments()
        let connections = run([
            s.segment(.a, seq: 0, flags: [.syn]),
            s.segment(.b, seq: 50, ack: 1, flags: [.syn, .ack]),
            s.segment(.a, seq: 1, ack: 51),
            s.segment(.a, seq: 1, ack: 351, "QUIT\r\n"),
        ])
        #expect(connections[0]!.gaps.map(\.direction) == [.fromResponder])
        #expect(connections[0]!.gaps.map(\.count) == [300])
    }

    @Test func midStreamStartGuessesTheInitiator() {
        var s = Segments()
        let connections = run([
            s.segment(.b, seq: 7_000, ack: 3_000, "250 OK\r\n"),
            s.segment(.a, seq: 3_000, ack: 7_008, "QUIT\r\n"),
        ])
        let connection = connections[0]!
        #expect(connection.info.initiator == s.b)
        #expect(!connection.info.initiatorFromHandshake)
        #expect(text(connection.fromInitiator) == "250 OK\r\n")
        #expect(text(connection.fromResponder) == "QUIT\r\n")
    }

    @Test func synAckFirstNamesTheOtherSideInitiator() {
        var s = Segments()
        let connections = run([s.segment(.b, seq: 10, ack: 101, flags: [.syn, .ack]), s.segment(.b, seq: 11, ack: 101, "220\r\n")])
        #expect(connections[0]!.info.initiator == s.a)
        #expect(text(connections[0]!.fromResponder) == "220\r\n")
    }

    @Test func interleavedConnectionsStaySeparate() {
        var one = Segments()
        var two = Segments()
        two.a = TCPEndpoint(address: IPAddress("2001:db8::a")!, port: 40_001)
        two.b = TCPEndpoint(address: IPAddress("2001:db8::19")!, port: 2525)
        let connections = run([
            one.segment(.a, seq: 0, flags: [.syn]),
            two.segment(.a, seq: 500, flags: [.syn]),
            two.segment(.a, seq: 506, ack: 1, "bbb"),
            one.segment(.a, seq: 1, ack: 1, "one "),
            two.segment(.a, seq: 501, ack: 1, "two: "),
            one.segment(.a, seq: 5, ack: 1, "done"),
        ])
        #expect(connections.count == 2)
        #expect(text(connections[0]!.fromInitiator) == "one done")
        #expect(text(connections[1]!.fromInitiator) == "two: bbb")
        #expect(connections[1]!.info.responder.description == "[2001:db8::19]:2525")
    }

    @Test func aNewSynAfterTheEndIsANewConnectionButStrayPacketsAreNot() {
        var s = Segments()
        let connections = run([
            s.segment(.a, seq: 0, flags: [.syn]),
            s.segment(.a, seq: 1, ack: 1, "first"),
            s.segment(.a, seq: 6, ack: 1, flags: [.rst]),
            s.segment(.a, seq: 1, ack: 1, "first"),  // a late retransmission: still connection 0
            s.segment(.a, seq: 90_000, flags: [.syn]),
            s.segment(.a, seq: 90_001, ack: 1, "second"),
        ])
        #expect(connections.count == 2)
        #expect(text(connections[0]!.fromInitiator) == "first")
        #expect(connections[0]!.finished == .closed)
        #expect(text(connections[1]!.fromInitiator) == "second")
    }

    @Test func reusedAddressesWithANewInitialSequenceSupersede() {
        var s = Segments()
        let connections = run([
            s.segment(.a, seq: 0, flags: [.syn]),
            s.segment(.a, seq: 1, ack: 1, "old"),
            s.segment(.a, seq: 77_000, flags: [.syn]),
            s.segment(.a, seq: 77_001, ack: 1, "new"),
        ])
        #expect(connections[0]!.finished == .superseded)
        #expect(text(connections[1]!.fromInitiator) == "new")
    }

    @Test func resetClosesBothDirections() {
        var s = Segments()
        let connections = run([
            s.segment(.a, seq: 0, flags: [.syn]),
            s.segment(.b, seq: 0, ack: 1, flags: [.syn, .ack]),
            s.segment(.b, seq: 1, ack: 1, "220 x\r\n"),
            s.segment(.a, seq: 1, ack: 8, flags: [.rst, .ack]),
        ])
        #expect(Set(connections[0]!.closed) == [.fromInitiator, .fromResponder])
        #expect(connections[0]!.finished == .closed)
    }

    @Test func payloadCutByTheSnapshotLengthIsAGap() {
        var s = Segments()
        let connections = run([
            s.segment(.a, seq: 0, flags: [.syn]),
            s.segment(.a, seq: 1, ack: 1, "DATA", missing: 96),
            s.segment(.a, seq: 101, ack: 1, ".\r\n"),
        ])
        #expect(connections[0]!.gaps.map(\.count) == [96])
        #expect(text(connections[0]!.fromInitiator) == "DATA.\r\n")
    }

    @Test func discardedConnectionsReportNothingMore() {
        var s = Segments()
        var reassembler = TCPReassembler()
        var events: [ReassemblyEvent] = []
        reassembler.process(s.segment(.a, seq: 0, flags: [.syn]), into: &events)
        reassembler.discard(connection: 0)
        events.removeAll()
        reassembler.process(s.segment(.a, seq: 10, ack: 1, "later"), into: &events)
        reassembler.process(s.segment(.a, seq: 1, ack: 1, "GET / HTTP/1.1\r\n"), into: &events)
        reassembler.finish(into: &events)
        #expect(events.isEmpty)
    }

    @Test func randomSegmentationReorderingAndDuplicationGiveTheSameStream() {
        var random = SeededGenerator(seed: 42)
        for round in 0..<200 {
            let stream = (0..<Int.random(in: 1...3000, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            let isn = UInt32.random(in: 0...UInt32.max, using: &random)
            var s = Segments()
            var pieces: [TCPSegment] = []
            var offset = 0
            while offset < stream.count {
                let length = min(Int.random(in: 1...200, using: &random), stream.count - offset)
                pieces.append(s.segment(.a, seq: isn &+ 1 &+ UInt32(offset), ack: 1, bytes: Array(stream[offset..<offset + length])))
                // Sometimes an overlapping retransmission of consistent bytes.
                if Bool.random(using: &random), offset > 10 {
                    let back = Int.random(in: 1...10, using: &random)
                    pieces.append(s.segment(.a, seq: isn &+ 1 &+ UInt32(offset - back), ack: 1, bytes: Array(stream[(offset - back)..<(offset + length)])))
                }
                offset += length
            }
            // Local reordering and duplicates.
            for index in pieces.indices.dropLast() where Int.random(in: 0..<4, using: &random) == 0 {
                pieces.swapAt(index, index + 1)
            }
            pieces += pieces.filter { _ in Int.random(in: 0..<10, using: &random) == 0 }
            let connections = run([s.segment(.a, seq: isn, flags: [.syn])] + pieces)
            #expect(connections[0]!.fromInitiator == stream, "round \(round)")
            #expect(connections[0]!.gaps.isEmpty, "round \(round)")
            #expect(connections[0]!.conflicts.isEmpty, "round \(round)")
        }
    }
}

@Suite("TCPReassembler maintenance")
struct TCPReassemblerMaintenanceTests {
    @Test func idleConnectionsAreFinishedAndTheirStateReleased() {
        var reassembler = TCPReassembler(tombstoneLifetime: 60, idleTimeout: 100)
        reassembler.maintenanceInterval = 1
        var s = Segments()
        var events: [ReassemblyEvent] = []
        reassembler.process(s.segment(.a, seq: 0, flags: [.syn]), into: &events)
        // Another connection, 200 seconds later.
        var other = Segments()
        other.a = TCPEndpoint(address: IPAddress("192.0.2.99")!, port: 1)
        other.time = s.time.advanced(byNanoseconds: 200_000_000_000)
        events.removeAll()
        reassembler.process(other.segment(.a, seq: 0, flags: [.syn]), into: &events)
        let finished = events.compactMap { event -> Int? in
            if case .finished(.idle) = event.kind { return event.connection }
            return nil
        }
        #expect(finished == [0])
        // Later still, the tombstone is gone too.
        other.time = other.time.advanced(byNanoseconds: 100_000_000_000)
        reassembler.process(other.segment(.a, seq: 1, ack: 1, "x"), into: &events)
        #expect(reassembler.trackedConnections == 1)
    }
}

@Suite("TCPReassembler robustness")
struct TCPReassemblerRobustnessTests {
    @Test func arbitrarySegmentsNeverTrap() {
        var random = SeededGenerator(seed: 0xBAD5EED)
        let words = ["220 mx\r\n", "EHLO x\r\n", "250 ok\r\n", "DATA\r\n", "354 go\r\n", ".\r\n", "BDAT 5 LAST\r\n", "AUTH LOGIN\r\n",
            "334 VXNlcg==\r\n", "STARTTLS\r\n", "\r\n", "\n", "\0", "CONNECT a:25 HTTP/1.0\r\n\r\n", "\u{5}\u{1}\u{0}"]
        let flagChoices: [TCPFlags] = [[.ack], [.psh, .ack], [.syn], [.syn, .ack], [.fin, .ack], [.rst], [.rst, .ack], []]
        for round in 0..<50 {
            var s = Segments()
            var segments: [TCPSegment] = []
            var sequences: [UInt32] = [UInt32.random(in: 0...UInt32.max, using: &random), UInt32.random(in: 0...UInt32.max, using: &random)]
            for _ in 0..<300 {
                let side = Bool.random(using: &random)
                var text = ""
                for _ in 0..<Int.random(in: 0...3, using: &random) { text += words.randomElement(using: &random)! }
                let jitter = Int64.random(in: -40...40, using: &random)
                let seq = UInt32(truncatingIfNeeded: Int64(sequences[side ? 0 : 1]) + (Bool.random(using: &random) ? 0 : jitter))
                segments.append(s.segment(side ? .a : .b, seq: seq, ack: sequences[side ? 1 : 0] &+ UInt32.random(in: 0...50, using: &random),
                    flags: flagChoices.randomElement(using: &random)!, text, missing: Int.random(in: 0...20, using: &random) == 0 ? 5 : 0))
                sequences[side ? 0 : 1] &+= UInt32(text.utf8.count)
            }
            // Replayed through everything: reassembly, detection, alignment, the engine, output.
            var table = SessionTableRenderer()
            for event in Conversation.replay(segments) {
                _ = event.jsonLine
                _ = table.consume(event)
            }
            _ = table.finishAll()
            _ = round
        }
    }
}
