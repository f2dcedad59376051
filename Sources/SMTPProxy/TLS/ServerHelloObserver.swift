import NIOCore

/// Sits between the socket and the TLS server handler of the client leg and reads the cipher
/// suite from the ServerHello the proxy sends (the one handshake message NIOSSL does not expose:
/// it tells the negotiated version, not the cipher). The ServerHello travels in clear in every
/// TLS version. It never changes a byte; the session takes the suite and removes the observer
/// when the handshake completes.
///
/// ServerHello (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3), in the first handshake record:
///
///     16 03 03 LL LL                  record: handshake, legacy version, length
///     02 LL LL LL                     handshake: server_hello, length
///     03 03                           legacy_version
///     32 octets                       random
///     NN + NN octets                  legacy_session_id_echo
///     CC CC                           cipher_suite
final class ServerHelloObserver: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The outgoing octets up to the cipher suite (at most a record header and a ServerHello's
    /// first part: 5 + 4 + 2 + 32 + 1 + 32 + 2).
    private var seen: [UInt8] = []
    private var done = false
    /// The suite, once the ServerHello has passed.
    private(set) var cipherSuite: TLSCipherSuite?

    static let maximumPrefix = 78

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if !done {
            let bytes = unwrapOutboundIn(data)
            let wanted = Self.maximumPrefix - seen.count
            if wanted > 0, let prefix = bytes.getBytes(at: bytes.readerIndex, length: min(wanted, bytes.readableBytes)) {
                seen += prefix
            }
            switch Self.cipherSuite(in: seen) {
            case .found(let suite):
                cipherSuite = suite
                done = true
            case .notServerHello:
                done = true
            case .needMore:
                break
            }
            if done { seen = [] }
        }
        context.write(data, promise: promise)
    }

    enum Reading: Equatable {
        case found(TLSCipherSuite)
        case needMore
        /// The first record is not a handshake record starting with a ServerHello.
        case notServerHello
    }

    /// The cipher suite of the ServerHello that `octets` (the first octets sent) start with.
    static func cipherSuite(in octets: [UInt8]) -> Reading {
        func at(_ index: Int) -> UInt8? { index < octets.count ? octets[index] : nil }
        guard let type = at(0) else { return .needMore }
        guard type == 0x16 else { return .notServerHello }
        guard let handshake = at(5) else { return .needMore }
        guard handshake == 0x02 else { return .notServerHello }
        let sessionIDLength = 5 + 4 + 2 + 32
        guard let idLength = at(sessionIDLength) else { return .needMore }
        guard idLength <= 32 else { return .notServerHello }
        let suite = sessionIDLength + 1 + Int(idLength)
        guard let high = at(suite), let low = at(suite + 1) else { return .needMore }
        return .found(TLSCipherSuite(code: UInt16(high) << 8 | UInt16(low)))
    }
}

@available(*, unavailable)
extension ServerHelloObserver: Sendable {}
