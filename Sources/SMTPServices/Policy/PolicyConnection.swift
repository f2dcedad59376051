import NIOCore

/// One connection to a policy server, carrying one exchange at a time (Postfix's protocol has no
/// request ids: an answer belongs to the one outstanding request). It reads the answer up to
/// its empty line and hands it to its pool; anything else closes it.
final class PolicyConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private unowned let pool: PolicyConnectionPool
    private(set) var channel: (any Channel)?
    private(set) var exchange: PolicyExchange?
    /// Whether an exchange was completed on it (a later failure with nothing read may be a stale
    /// connection the server closed while idle).
    private(set) var reused = false
    private var buffer = ByteBuffer()
    private(set) var closed = false

    init(pool: PolicyConnectionPool) {
        self.pool = pool
    }

    var isIdle: Bool { channel != nil && exchange == nil && !closed }

    func connected(_ channel: any Channel) {
        self.channel = channel
    }

    /// Writes `exchange`'s request.
    func send(_ exchange: PolicyExchange) {
        guard let channel, !closed else { return }
        self.exchange = exchange
        exchange.connection = self
        buffer.clear()
        channel.writeAndFlush(exchange.request, promise: nil)
    }

    /// Closes the connection; its exchange (if any) is the caller's to finish.
    func close() {
        guard !closed else { return }
        closed = true
        exchange = nil
        channel?.close(promise: nil)
    }

    // MARK: - Channel events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard let exchange, !closed else {
            // An answer nobody asked for: the connection is out of step.
            fail(PolicyFailure(.garbage, "data from the server with no request outstanding"))
            return
        }
        buffer.writeBuffer(&bytes)
        let view = buffer.readableBytesView
        var end: Int?
        var previous: UInt8 = 0
        for (offset, byte) in view.enumerated() {
            if byte == 0x0A, previous == 0x0A {
                end = offset
                break
            }
            // A CR before a line end is tolerated (servers written for Windows); bare CRs are text.
            if byte != 0x0D { previous = byte }
        }
        guard let end else {
            if buffer.readableBytes > PolicyClient.maximumAnswerLength {
                fail(PolicyFailure(.oversized, "answer longer than \(PolicyClient.maximumAnswerLength) octets"))
            }
            return
        }
        guard end + 1 <= PolicyClient.maximumAnswerLength else {
            fail(PolicyFailure(.oversized, "answer longer than \(PolicyClient.maximumAnswerLength) octets"))
            return
        }
        let text = buffer.readString(length: end + 1) ?? ""
        self.exchange = nil
        reused = true
        let result = Self.action(in: text)
        if case .failure = result {
            close()
        } else if buffer.readableBytes > 0 {
            // More than one answer to one request: do not trust the connection any further.
            close()
        }
        // The pool takes the connection back before the answer is handed on, so that a request
        // made on the answer (the next policy rule of the same command) can reuse it.
        pool.exchangeEnded(on: self)
        exchange.finish(result)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let readSomething = buffer.readableBytes > 0
        let exchange = self.exchange
        self.exchange = nil
        closed = true
        pool.connectionClosed(self, exchange: exchange, readSomething: readSomething)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset shows up here, then as channelInactive, which finishes the exchange.
        context.close(promise: nil)
    }

    private func fail(_ failure: PolicyFailure) {
        let exchange = self.exchange
        close()
        pool.exchangeEnded(on: self)
        exchange?.finish(.failure(failure))
    }

    /// The `action` of an answer (`name=value` lines, the last one empty).
    static func action(in text: String) -> Result<String, PolicyFailure> {
        var action: String?
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            guard let equals = line.firstIndex(of: "="), equals > line.startIndex else {
                return .failure(PolicyFailure(.garbage, "not a name=value line: '\(Self.printable(line))'"))
            }
            if line[..<equals] == "action", action == nil {
                action = String(line[line.index(after: equals)...])
            }
        }
        guard let action else {
            return .failure(PolicyFailure(.garbage, "answer without action=: '\(Self.printable(Substring(text)))'"))
        }
        return .success(action)
    }

    /// At most 80 characters, control characters as `?`: for anomaly details.
    static func printable(_ text: Substring) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(80).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
    }
}

@available(*, unavailable)
extension PolicyConnection: Sendable {}
