import NIOCore

/// One leg's TLS (`--tls terminate`, `--listen-tls`): whether its handshake is under way, and the
/// `HandshakeAckHandler` kept below its TLS handler until the leg's first application data.
struct LegTLSState {
    /// A handshake is under way: the leg must read whatever the session's backpressure says.
    private(set) var handshaking = false
    private var acknowledger: HandshakeAckHandler?

    /// A leg that is encrypted from its first byte (the TLS handler came with the listener).
    init(handshakingFromStart: Bool = false) {
        handshaking = handshakingFromStart
    }

    /// Puts `tlsHandler` next to the socket, and the acknowledger below it.
    mutating func begin(with tlsHandler: any ChannelHandler, on pipeline: ChannelPipeline.SynchronousOperations) throws {
        let acknowledger = HandshakeAckHandler()
        try pipeline.addHandler(tlsHandler, position: .first)
        try pipeline.addHandler(acknowledger, position: .first)
        self.acknowledger = acknowledger
        handshaking = true
    }

    mutating func handshakeEnded() {
        handshaking = false
    }

    /// Application data arrived on the leg: the acknowledger's work is done. (`pipeline` is only
    /// looked up when there is one to remove: this runs on every read.)
    mutating func applicationDataArrived(on pipeline: @autoclosure () -> ChannelPipeline.SynchronousOperations?) {
        guard !handshaking, let acknowledger else { return }
        self.acknowledger = nil
        pipeline()?.removeHandler(acknowledger, promise: nil)
    }
}
