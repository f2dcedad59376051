import NIOCore

/// Sits between the socket and the TLS handler of a leg while TLS is set up, and makes the
/// kernel acknowledge every read at once (TCP_QUICKACK) until the session has read its first
/// application data on that leg; the session then removes it.
///
/// Right after a handshake both peers write small records back to back, and a peer with Nagle
/// on waits for an ACK that Linux delays by 40 ms:
/// - client leg: BoringSSL keeps its TLS 1.3 session tickets until the proxy first writes, so
///   nothing acknowledges the client's Finished and the client holds its first command;
/// - upstream leg: the proxy's Finished and first command cross the server's session tickets,
///   and the server (Postfix) holds its reply until the tickets are acknowledged.
/// TLS reads that carry no application data (tickets, Finished) never reach the session, so the
/// acknowledgement has to come from below the TLS handler.
final class HandshakeAckHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private static let quickACK = ChannelOptions.Types.SocketOption(level: .tcp, name: NIOBSDSocket.Option(rawValue: 12))  // TCP_QUICKACK

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // An optimisation only (ACK the handshake at once): where the option is refused, TCP
        // acknowledges on its own schedule and nothing else changes.
        try? context.channel.syncOptions?.setOption(Self.quickACK, value: 1)
        context.fireChannelReadComplete()
    }
}

@available(*, unavailable)
extension HandshakeAckHandler: Sendable {}
