import NIOCore
import SMTPCore
@testable import SMTPServices
import Testing

/// The wire form: packets out byte for byte, every reply in, and what is not the protocol.
@Suite struct MilterCodecTests {
    static func packet(_ code: Character, _ payload: [UInt8] = []) -> MilterPacket {
        MilterPacket(code, payload: ByteBuffer(bytes: payload))
    }

    static func wire(_ command: MilterCommand) -> [UInt8] {
        var buffer = ByteBuffer()
        command.packet.write(to: &buffer)
        return Array(buffer.readableBytesView)
    }

    @Test func commandsGoOutAsLibmilterReadsThem() {
        #expect(Self.wire(.negotiate(version: 6, actions: .offered, steps: .offered)) == [
            0, 0, 0, 13, UInt8(ascii: "O"), 0, 0, 0, 6, 0, 0, 0, 0xFF, 0, 0x1F, 0xF7, 0xFF,
        ])
        #expect(Self.wire(.connect(hostname: "h", family: UInt8(ascii: "4"), port: 25, address: "1.2.3.4")) == [
            0, 0, 0, 14, UInt8(ascii: "C"), UInt8(ascii: "h"), 0, UInt8(ascii: "4"), 0, 25,
        ] + Array("1.2.3.4".utf8) + [0])
        #expect(Self.wire(.macros(stage: UInt8(ascii: "M"), [(name: "i", value: "s1")])) == [0, 0, 0, 7, UInt8(ascii: "D"), UInt8(ascii: "M"), UInt8(ascii: "i"), 0, UInt8(ascii: "s"), UInt8(ascii: "1"), 0])
        #expect(Self.wire(.mail(["<a@b>", "SIZE=1"])) == [0, 0, 0, 14, UInt8(ascii: "M")] + Array("<a@b>\0SIZE=1\0".utf8))
        #expect(Self.wire(.endOfMessage) == [0, 0, 0, 1, UInt8(ascii: "E")])
    }

    @Test func everyReplyIsRead() throws {
        #expect(try MilterResponse(packet: Self.packet("c")) == .continue)
        #expect(try MilterResponse(packet: Self.packet("p")) == .progress)
        #expect(try MilterResponse(packet: Self.packet("y", Array("550 5.7.1 no\0".utf8))) == .replyCode("550 5.7.1 no"))
        #expect(try MilterResponse(packet: Self.packet("i", [0, 0, 0, 2] + Array("X\0v\0".utf8)))
            == .insertHeader(index: 2, name: Array("X".utf8), value: Array("v".utf8)))
        #expect(try MilterResponse(packet: Self.packet("e", Array("<a@b>\0".utf8))) == .changeSender("<a@b>", parameters: nil))
        #expect(try MilterResponse(packet: Self.packet("2", Array("<c@d>\0NOTIFY=NEVER\0".utf8))) == .addRecipient("<c@d>", parameters: "NOTIFY=NEVER"))
        #expect(try MilterResponse(packet: Self.packet("O", [0, 0, 0, 6, 0, 0, 0, 1, 0, 0, 0x10, 0]))
            == .negotiate(version: 6, actions: .addHeaders, steps: MilterSteps(rawValue: 0x1000)))
    }

    static let garbage: [(Character, [UInt8])] = [
        ("Z", []), ("c", [1]), ("h", Array("X\0no-nul".utf8)), ("m", [0, 0]), ("y", Array("550 x".utf8)),
        ("-", Array("a\0extra".utf8)), ("O", [0, 0, 0, 6]),
    ]

    @Test(arguments: Self.garbage.indices)
    func whatIsNotTheProtocolIsGarbage(index: Int) {
        let (code, payload) = Self.garbage[index]
        #expect(throws: MilterError.self) { try MilterResponse(packet: Self.packet(code, payload)) }
    }

    @Test func theDecoderWaitsForWholePacketsAndRefusesOversizedOnes() throws {
        var decoder = MilterPacketDecoder()
        var buffer = ByteBuffer(bytes: [0, 0, 0, 2, UInt8(ascii: "y")])
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(buffer.readableBytes == 5)
        buffer.writeBytes([UInt8(ascii: "!"), 0, 0, 0, 1, UInt8(ascii: "c")])
        #expect(try decoder.decode(buffer: &buffer) == Self.packet("y", [UInt8(ascii: "!")]))
        #expect(try decoder.decode(buffer: &buffer) == Self.packet("c"))
        var huge = ByteBuffer(bytes: [0x00, 0x10, 0x00, 0x01, UInt8(ascii: "b")])
        #expect(throws: MilterError(.oversized, "a packet of 1048577 octets (at most 1048576)")) { try decoder.decode(buffer: &huge) }
        var empty = ByteBuffer(bytes: [0, 0, 0, 0])
        #expect(throws: MilterError.self) { try decoder.decode(buffer: &empty) }
    }

    @Test func replyCodesAreCheckedAndKeptWhole() {
        #expect(MilterReplyText.parse("554 5.7.1 Gtube pattern") == SMTPReply(code: 554, "5.7.1 Gtube pattern"))
        #expect(MilterReplyText.parse("451-4.7.1 a\r\n451 4.7.1 b") == SMTPReply(code: 451, lines: ["4.7.1 a", "4.7.1 b"]))
        #expect(MilterReplyText.parse("550 50%% off") == SMTPReply(code: 550, "50% off"))
        for bad in ["250 ok", "55 short", "550-only continuation", "550 a\r\n451 b", "", "abc def"] {
            #expect(MilterReplyText.parse(bad) == nil, "\(bad)")
        }
    }
}

/// Dot-stuffing undone chunk by chunk, and redone by `HeldMessage.content(dotStuffed:)`: the
/// round trip gives the wire bytes back whatever the chunk boundaries.
@Suite struct DotUnstufferTests {
    @Test func unstuffingAndStuffingRoundTripOverAnySplit() throws {
        let wire = Array("Subject: x\r\n\r\n..one\r\n...two\r\nthree.\r\n..\r\n..four\r\n".utf8)
        let plain = Array("Subject: x\r\n\r\n.one\r\n..two\r\nthree.\r\n.\r\n.four\r\n".utf8)
        for split in 0...wire.count {
            var unstuffer = DotUnstuffer()
            let spool = MessageSpool()
            for part in [wire[..<split], wire[split...]] {
                var failure: (any Error)?
                unstuffer.unstuff(ByteBuffer(bytes: part)) { slice in
                    do { try spool.append(slice) } catch { failure = error }
                }
                if let failure { throw failure }
            }
            var chunks = spool.chunks()
            var held: [UInt8] = []
            while let chunk = try chunks.next() { held += chunk.readableBytesView }
            #expect(held == plain, "split at \(split)")
            var content = try HeldMessage(spool: spool).content(dotStuffed: true)
            var stuffed: [UInt8] = []
            while let chunk = try content.next() { stuffed += chunk.readableBytesView }
            #expect(stuffed == wire, "split at \(split)")
        }
    }
}
