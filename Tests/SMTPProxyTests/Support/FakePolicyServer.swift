import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A Postfix policy server for tests, on a free loopback port: it records every request
/// (attributes in order) and answers as told, including every way a real server can misbehave.
final class FakePolicyServer: @unchecked Sendable {
    enum Behaviour: Sendable {
        /// `action=<answer>` then an empty line.
        case answer(@Sendable ([(String, String)]) -> String)
        /// Reads and never answers.
        case silent
        /// Bytes that are not `name=value` lines.
        case garbage
        /// An answer line longer than 1 KiB.
        case oversized
        /// Closes the connection as soon as a request is complete.
        case closeBeforeAnswer
        /// Sends half an answer, then closes.
        case closeMidAnswer
        /// Answers after `delay` (on the server's loop timer).
        case answerAfter(TimeAmount, String)
    }

    let port: Int
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channel: any Channel
    private let state = NIOLockedValueBox(State())

    struct State {
        var requests: [[(String, String)]] = []
        var connections = 0
        var open = 0
        var maximumOpen = 0
        var behaviour: Behaviour = .answer { _ in "DUNNO" }
    }

    init(_ behaviour: Behaviour = .answer({ _ in "DUNNO" })) throws {
        state.withLockedValue { $0.behaviour = behaviour }
        let state = self.state
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Connection(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        port = channel.localAddress!.port!
    }

    var service: String { "inet:127.0.0.1:\(port)" }

    func setBehaviour(_ behaviour: Behaviour) { state.withLockedValue { $0.behaviour = behaviour } }
    var requests: [[(String, String)]] { state.withLockedValue { $0.requests } }
    var connections: Int { state.withLockedValue { $0.connections } }
    var maximumOpenConnections: Int { state.withLockedValue { $0.maximumOpen } }

    func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    private final class Connection: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let state: NIOLockedValueBox<State>
        var buffer = ByteBuffer()

        init(state: NIOLockedValueBox<State>) { self.state = state }

        func channelActive(context: ChannelHandlerContext) {
            state.withLockedValue {
                $0.connections += 1
                $0.open += 1
                $0.maximumOpen = max($0.maximumOpen, $0.open)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLockedValue { $0.open -= 1 }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            buffer.writeBuffer(&bytes)
            while let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes),
                let end = text.range(of: "\n\n")
            {
                let request = String(text[..<end.lowerBound])
                buffer.moveReaderIndex(forwardBy: text[..<end.upperBound].utf8.count)
                let attributes = request.split(separator: "\n").map { line -> (String, String) in
                    let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
                }
                let behaviour = state.withLockedValue {
                    $0.requests.append(attributes)
                    return $0.behaviour
                }
                respond(behaviour, attributes, context: context)
            }
        }

        private func respond(_ behaviour: Behaviour, _ attributes: [(String, String)], context: ChannelHandlerContext) {
            func send(_ text: String) {
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
            }
            switch behaviour {
            case .answer(let answer): send("action=\(answer(attributes))\n\n")
            case .silent: break
            case .garbage: send("HTTP/1.1 400 Bad Request\r\n\r\n")
            case .oversized: send("action=DUNNO " + String(repeating: "x", count: 2000) + "\n\n")
            case .closeBeforeAnswer: context.close(promise: nil)
            case .closeMidAnswer:
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "action=DEF")), promise: nil)
                context.close(promise: nil)
            case .answerAfter(let delay, let answer):
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: delay) {
                    loopBound.value.writeAndFlush(NIOAny(ByteBuffer(string: "action=\(answer)\n\n")), promise: nil)
                }
            }
        }
    }
}
