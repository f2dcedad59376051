import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A scripted milter on a free loopback port, for the failure paths no real milter takes on
/// purpose (garbage, a stall, an oversized packet, a close at a chosen step) and for exact
/// checks of what the client sends (macros, body chunk sizes) and of modifications.
final class FakeMilter: @unchecked Sendable {
    enum Fault {
        case none
        /// Never answer this command (nor anything after it).
        case stall(at: Character)
        /// Close the connection on receiving it.
        case close(at: Character)
        /// Answer it with a packet of an unknown command.
        case garbage(at: Character)
        /// Answer it with a packet header announcing 2 GiB.
        case oversized(at: Character)
        /// Answer it with SMTP text instead of a packet.
        case text(at: Character)
        /// Answer it with a modification (only allowed at end of message).
        case modification(at: Character)
    }

    struct Packet {
        var command: Character
        /// Empty for body chunks when bodies are not recorded (`length` still tells their size).
        var payload: [UInt8]
        var length: Int

        /// The NUL-terminated strings of the payload.
        var strings: [String] {
            payload.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
        }
    }

    let port: Int
    private let channel: any Channel
    private let received = NIOLockedValueBox<[Packet]>([])

    /// `steps`: the protocol steps it asks for in negotiation; `endOfMessage`: packets sent before
    /// its final `accept` at end of message; `final`: that final answer's command.
    init(
        group: any EventLoopGroup, fault: Fault = .none, steps: UInt32 = 0, actions: UInt32 = 0x1FF,
        endOfMessage: [(Character, [UInt8])] = [], final: Character = "a", finalPayload: [UInt8] = [],
        answers: [Character: Character] = [:], recordsBodies: Bool = true, rejectRecipientsContaining: String? = nil
    ) async throws {
        let received = self.received
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        Handler(
                            fault: fault, steps: steps, actions: actions, endOfMessage: endOfMessage, final: final,
                            finalPayload: finalPayload, answers: answers, recordsBodies: recordsBodies, rejectRecipientsContaining: rejectRecipientsContaining,
                            received: received))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress!.port!
    }

    var packets: [Packet] { received.withLockedValue { $0 } }

    func stop() async {
        try? await channel.close()
    }

    static func packet(_ command: Character, _ payload: [UInt8] = []) -> [UInt8] {
        let length = UInt32(payload.count + 1)
        return withUnsafeBytes(of: length.bigEndian, Array.init) + [command.asciiValue!] + payload
    }

    static func strings(_ values: String...) -> [UInt8] { values.flatMap { Array($0.utf8) + [0] } }

    static func integer(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let fault: Fault
        let steps: UInt32
        let actions: UInt32
        let endOfMessage: [(Character, [UInt8])]
        let final: Character
        let finalPayload: [UInt8]
        let answers: [Character: Character]
        let received: NIOLockedValueBox<[Packet]>
        let recordsBodies: Bool
        let rejectRecipientsContaining: String?
        var buffer = ByteBuffer()
        var stalled = false

        init(
            fault: Fault, steps: UInt32, actions: UInt32, endOfMessage: [(Character, [UInt8])], final: Character,
            finalPayload: [UInt8], answers: [Character: Character], recordsBodies: Bool, rejectRecipientsContaining: String?,
            received: NIOLockedValueBox<[Packet]>
        ) {
            self.recordsBodies = recordsBodies
            self.rejectRecipientsContaining = rejectRecipientsContaining
            self.fault = fault
            self.steps = steps
            self.actions = actions
            self.endOfMessage = endOfMessage
            self.final = final
            self.finalPayload = finalPayload
            self.answers = answers
            self.received = received
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            buffer.writeBuffer(&incoming)
            while let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
                buffer.readableBytes >= 4 + Int(length)
            {
                buffer.moveReaderIndex(forwardBy: 4)
                let command = Character(UnicodeScalar(buffer.readInteger(as: UInt8.self)!))
                let payload = buffer.readBytes(length: Int(length) - 1)!
                let kept = command == "B" && !recordsBodies ? [] : payload
                received.withLockedValue { $0.append(Packet(command: command, payload: kept, length: payload.count)) }
                buffer.discardReadBytes()
                handle(command, payload: payload, context: context)
            }
        }

        private func handle(_ command: Character, payload: [UInt8], context: ChannelHandlerContext) {
            guard !stalled else { return }
            if command == "R", let needle = rejectRecipientsContaining, String(decoding: payload, as: UTF8.self).contains(needle) {
                return write(FakeMilter.packet("y", FakeMilter.strings("550 5.7.1 <\(needle)> refused by the milter")), context)
            }
            switch fault {
            case .stall(let at) where at == command:
                stalled = true
                return
            case .close(let at) where at == command:
                context.close(promise: nil)
                return
            case .garbage(let at) where at == command:
                return write(FakeMilter.packet("Z"), context)
            case .oversized(let at) where at == command:
                return write([0x7F, 0xFF, 0xFF, 0xFF, UInt8(ascii: "c")], context)
            case .text(let at) where at == command:
                return write(Array("220 mx.example.org ESMTP\r\n".utf8), context)
            case .modification(let at) where at == command:
                return write(FakeMilter.packet("h", FakeMilter.strings("X-Early", "no")) + FakeMilter.packet("c"), context)
            default:
                break
            }
            switch command {
            case "O":
                write(FakeMilter.packet("O", FakeMilter.integer(6) + FakeMilter.integer(actions) + FakeMilter.integer(steps)), context)
            case "D", "A":
                break
            case "Q":
                context.close(promise: nil)
            case "E":
                let packets = endOfMessage.flatMap { FakeMilter.packet($0.0, $0.1) }
                write(packets + FakeMilter.packet(final, finalPayload), context)
            default:
                let noReply: [Character: UInt32] = [
                    "C": 0x1000, "H": 0x2000, "M": 0x4000, "R": 0x8000, "T": 0x10000, "L": 0x80, "N": 0x40000, "B": 0x80000,
                ]
                if let flag = noReply[command], steps & flag != 0 { return }
                write(FakeMilter.packet(answers[command] ?? "c"), context)
            }
        }

        private func write(_ bytes: [UInt8], _ context: ChannelHandlerContext) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
        }

        typealias OutboundOut = ByteBuffer
    }
}
