import NIOCore

/// Hands decoded packets, decoder errors and the end of the connection to its `MilterConnection`
/// (what arrives before the connection is attached waits for it). The reference is weak: the
/// conversation owns its connection, the channel must not keep it alive.
final class MilterConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = MilterPacket

    private weak var connection: MilterConnection?
    private var attached = false
    private var early: [Result<MilterPacket, MilterError>] = []

    func attach(_ connection: MilterConnection) {
        self.connection = connection
        attached = true
        for event in early { deliver(event) }
        early = []
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        deliver(.success(unwrapInboundIn(data)))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let milterError = (error as? MilterError) ?? MilterError(.closed, "\(error)")
        deliver(.failure(milterError))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deliver(.failure(MilterError(.closed, "the milter closed the connection")))
        context.fireChannelInactive()
    }

    private func deliver(_ event: Result<MilterPacket, MilterError>) {
        guard let connection else {
            if !attached { early.append(event) }
            return
        }
        switch event {
        case .success(let packet): connection.received(packet)
        case .failure(let error): connection.fail(error)
        }
    }
}

@available(*, unavailable)
extension MilterConnectionHandler: Sendable {}
