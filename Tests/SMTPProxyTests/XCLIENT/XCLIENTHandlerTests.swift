import NIOCore
import NIOEmbedded
@testable import SMTPProxy
import Testing

/// The XCLIENT exchange on an `EmbeddedChannel`: what the upstream receives, what the session
/// behind the handler sees, and every way the upstream can decline.
@Suite struct XCLIENTHandlerTests {
    /// What reaches the handler behind it (the session's place).
    final class Sink: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var received = ""
        var readCompletes = 0
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += String(buffer: unwrapInboundIn(data))
        }
        func channelReadComplete(context: ChannelHandlerContext) { readCompletes += 1 }
    }

    struct Setup {
        let channel: EmbeddedChannel
        let sink: Sink
        let outcomes: Box
    }

    final class Box: @unchecked Sendable { var values: [XCLIENTOutcome] = [] }

    static func setup(client: SocketAddress) throws -> Setup {
        let outcomes = Box()
        let sink = Sink()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([XCLIENTHandler(client: client) { outcomes.values.append($0) }, sink])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        return Setup(channel: channel, sink: sink, outcomes: outcomes)
    }

    static func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test func exchangeIsHiddenAndTheNewGreetingPassesOn() throws {
        let setup = try Self.setup(client: try SocketAddress(ipAddress: "192.0.2.7", port: 50123))
        let channel = setup.channel
        try channel.writeInbound(ByteBuffer(string: "220 upstream.test ESMTP\r\n"))
        #expect(try Self.written(channel).hasPrefix("EHLO ["))
        // The session writes a pipelined command meanwhile: it waits for the exchange.
        channel.write(ByteBuffer(string: "EHLO client.example\r\n"), promise: nil)
        channel.flush()
        try channel.writeInbound(ByteBuffer(string: "250-upstream.test\r\n250-PIPELINING\r\n250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT\r\n250 8BITMIME\r\n"))
        #expect(try Self.written(channel) == "XCLIENT ADDR=192.0.2.7 PORT=50123 NAME=[UNAVAILABLE] PROTO=ESMTP\r\n")
        #expect(setup.sink.received.isEmpty, "the session has seen nothing of the exchange")
        try channel.writeInbound(ByteBuffer(string: "220 upstream.test ESMTP\r\n"))
        #expect(setup.sink.received == "220 upstream.test ESMTP\r\n")
        #expect(try Self.written(channel) == "EHLO client.example\r\n", "held writes go out after the exchange")
        #expect(setup.outcomes.values == [.applied(command: "XCLIENT ADDR=192.0.2.7 PORT=50123 NAME=[UNAVAILABLE] PROTO=ESMTP")])
        #expect(throws: (any Error).self) { try channel.pipeline.syncOperations.handler(type: XCLIENTHandler.self) }
        try channel.writeInbound(ByteBuffer(string: "250 ok\r\n"))
        #expect(setup.sink.received.hasSuffix("250 ok\r\n"))
        _ = try channel.finish()
    }

    @Test func ipv6ClientAndOnlyOfferedAttributes() throws {
        let setup = try Self.setup(client: try SocketAddress(ipAddress: "2001:db8::7", port: 1025))
        try setup.channel.writeInbound(ByteBuffer(string: "220 x\r\n"))
        _ = try Self.written(setup.channel)
        try setup.channel.writeInbound(ByteBuffer(string: "250-x\r\n250 XCLIENT ADDR NAME\r\n"))
        #expect(try Self.written(setup.channel) == "XCLIENT ADDR=IPv6:2001:db8::7 NAME=[UNAVAILABLE]\r\n")
        _ = try setup.channel.finish()
    }

    @Test(arguments: [
        ("250-x\r\n250 PIPELINING\r\n", nil, "the upstream's EHLO does not offer XCLIENT"),
        ("502 5.5.2 no EHLO\r\n", nil, "the upstream's EHLO does not offer XCLIENT"),
        ("250-x\r\n250 XCLIENT NAME\r\n", nil, "the upstream's XCLIENT does not take ADDR"),
        ("250-x\r\n250 XCLIENT ADDR\r\n", "550 5.7.0 Error: insufficient authorization\r\n",
         "the upstream refused XCLIENT: 550 5.7.0 Error: insufficient authorization"),
    ] as [(String, String?, String)])
    func declinedExchangePassesTheOriginalGreeting(_ ehloReply: String, _ xclientReply: String?, _ reason: String) throws {
        let setup = try Self.setup(client: try SocketAddress(ipAddress: "192.0.2.7", port: 50123))
        try setup.channel.writeInbound(ByteBuffer(string: "220 original.test ESMTP hello\r\n"))
        _ = try Self.written(setup.channel)
        try setup.channel.writeInbound(ByteBuffer(string: ehloReply))
        if let xclientReply {
            #expect(try Self.written(setup.channel).hasPrefix("XCLIENT ADDR=192.0.2.7"))
            try setup.channel.writeInbound(ByteBuffer(string: xclientReply))
        }
        #expect(setup.sink.received == "220 original.test ESMTP hello\r\n")
        #expect(setup.outcomes.values == [.unavailable(reason: reason)])
        _ = try setup.channel.finish()
    }

    /// A greeting that is not 220 (a busy upstream's 421) reaches the session as it came.
    @Test func refusingGreetingPassesThrough() throws {
        let setup = try Self.setup(client: try SocketAddress(ipAddress: "192.0.2.7", port: 50123))
        try setup.channel.writeInbound(ByteBuffer(string: "421 4.3.2 busy\r\n"))
        #expect(setup.sink.received == "421 4.3.2 busy\r\n")
        #expect(try Self.written(setup.channel).isEmpty)
        #expect(setup.outcomes.values == [.unavailable(reason: "the upstream greeted with 421")])
        _ = try setup.channel.finish()
    }

    /// Replies split across reads, byte by byte, are reassembled.
    @Test func bytesArrivingOneByOne() throws {
        let setup = try Self.setup(client: try SocketAddress(ipAddress: "192.0.2.7", port: 50123))
        for byte in "220 a\r\n".utf8 { try setup.channel.writeInbound(ByteBuffer(bytes: [byte])) }
        #expect(try Self.written(setup.channel).hasPrefix("EHLO "))
        for byte in "250-a\r\n250 XCLIENT ADDR PORT\r\n".utf8 { try setup.channel.writeInbound(ByteBuffer(bytes: [byte])) }
        #expect(try Self.written(setup.channel) == "XCLIENT ADDR=192.0.2.7 PORT=50123\r\n")
        for byte in "220 b\r\n".utf8 { try setup.channel.writeInbound(ByteBuffer(bytes: [byte])) }
        #expect(setup.sink.received == "220 b\r\n")
        _ = try setup.channel.finish()
    }

    @Test func xtextEncoding() {
        #expect(XCLIENTCommand.xtext("[UNAVAILABLE]") == "[UNAVAILABLE]")
        #expect(XCLIENTCommand.xtext("a b=c+d") == "a+20b+3Dc+2Bd")
    }
}
