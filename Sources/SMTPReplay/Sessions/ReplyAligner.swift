import SMTPCore
import struct NIOCore.ByteBuffer
import struct NIOCore.CircularBuffer

/// Keeps the captured server's replies in step with what the engine forwarded.
///
/// In a capture, the server answered every command the real client sent. When the engine
/// answers a command itself (a `reject` rule, a line too long, a stripped keyword), the live proxy
/// would never have forwarded it, so the upstream would never have answered: the captured reply to
/// that command must not reach the engine, or every later reply would be paired with the wrong
/// command. The aligner therefore cuts the server stream into replies (with the engine's own
/// `ReplyParser`, so both agree on where replies end), pairs them with the client's commands in
/// order, and drops the replies of commands the engine did not forward:
///
///     client (captured): VRFY root / MAIL FROM:<a@b>        server (captured): 252 … / 250 OK
///     engine: VRFY → reject (502, its own)   MAIL → forward
///     aligner: 252 dropped, 250 OK fed → the engine pairs 250 with MAIL, as it would live.
///
/// Where the captured server then made the client send more than the proxy would have let it
/// (354 to a DATA the proxy refused, 334 to an AUTH it refused), the client's body or AUTH
/// response is dropped too: a refused AUTH's credentials never reach the engine or the log.
/// With no local answers (no rules, well-formed traffic) every byte passes through unchanged.
struct ReplyAligner: Sendable {
    /// A reply the captured server owes, in command order.
    struct Expectation: Sendable {
        var verb: String
        /// The engine forwarded the command, so the upstream would have answered it.
        var forwarded: Bool
        /// A reply to feed the engine for a command only the proxy sent (its internal RSET).
        var synthetic: ByteBuffer?
    }

    enum ServerItem {
        /// Bytes to hand to the engine.
        case feed(ByteBuffer)
        /// A captured reply to a command the proxy answered itself.
        case drop
    }

    private enum ClientFilter: Sendable {
        case pass
        /// Drop through the next LF (an AUTH response to a refused AUTH).
        case dropLine
        /// Drop a DATA body through its `CRLF.CRLF`; `matched` bytes of it seen.
        case dropBody(matched: Int)
    }

    private var expected: CircularBuffer<Expectation> = [Expectation(verb: "greeting", forwarded: true)]
    private var parser = ReplyParser()
    private var serverBytes = ByteBuffer()
    private var clientFilter = ClientFilter.pass
    /// Blind relay (after STARTTLS): no more reply parsing.
    private(set) var passthrough = false
    private(set) var droppedReplies = 0
    private(set) var droppedClientBytes = 0

    init() {}

    // MARK: - Engine output

    /// Learns the commands the engine read, and whether it forwarded them.
    mutating func observe(_ effects: InspectionEffects) {
        for event in effects.events {
            guard case .command(let record) = event.kind else { continue }
            let forwarded = record.action != "reject" && record.action != "disconnect"
            if record.verb == "BDAT", record.action == "reject", record.rule == "limits.max-message-size",
                effects.toServer.contains(where: { $0.readableBytesView.elementsEqual("RSET\r\n".utf8) })
            {
                // The engine aborted the upstream's transaction with an RSET of its own, which the
                // captured server never saw: answer it as a server would.
                expected.append(Expectation(verb: "RSET", forwarded: true, synthetic: ByteBuffer(string: "250 2.0.0 Ok\r\n")))
            }
            expected.append(Expectation(verb: record.verb, forwarded: forwarded))
            if record.verb == SMTPVerb.authResponse.name, record.action == "reject",
                effects.toServer.contains(where: { $0.readableBytesView.elementsEqual("*\r\n".utf8) })
            {
                // A refused AUTH identity: the engine cancelled the upstream's exchange with a `*`
                // of its own, which the captured server never saw; answer it as a server would.
                expected.append(Expectation(verb: "AUTH", forwarded: true, synthetic: ByteBuffer(string: "501 5.7.0 Authentication aborted\r\n")))
            }
        }
    }

    /// From now on, bytes pass unchanged (the engine relays blind).
    mutating func enterPassthrough() {
        passthrough = true
        clientFilter = .pass
    }

    // MARK: - Server side

    mutating func receiveServer(_ bytes: ByteBuffer) {
        if serverBytes.readableBytes == 0 {
            serverBytes = bytes
        } else {
            var bytes = bytes
            serverBytes.writeBuffer(&bytes)
        }
    }

    /// The next thing to do with the server's bytes; nil when they hold no complete reply.
    mutating func nextServerItem() -> ServerItem? {
        if let head = expected.first, let synthetic = head.synthetic {
            expected.removeFirst()
            return .feed(synthetic)
        }
        guard serverBytes.readableBytes > 0 else { return nil }
        if passthrough {
            defer { serverBytes = ByteBuffer() }
            return .feed(serverBytes)
        }
        let unread = serverBytes
        guard let item = parser.next(from: &serverBytes) else { return nil }
        let raw = unread.getSlice(at: unread.readerIndex, length: serverBytes.readerIndex - unread.readerIndex)!
        if serverBytes.readableBytes == 0 { serverBytes = ByteBuffer() }
        guard case .reply(let reply, _) = item, let head = expected.popFirst() else {
            // Lines without a code, over-long replies, unsolicited replies: the engine judges them.
            return .feed(raw)
        }
        switch (reply.code, head.verb) {
        case (354, "DATA"):
            // The body follows, then a reply to its end.
            expected.prepend(Expectation(verb: ".", forwarded: head.forwarded))
            if !head.forwarded { clientFilter = .dropBody(matched: 2) }
        case (334, "AUTH"), (334, "AUTH-RESPONSE"), (334, "X-EXPS"):
            if !head.forwarded {
                expected.prepend(Expectation(verb: "AUTH-RESPONSE", forwarded: false))
                clientFilter = .dropLine
            }
        default:
            break
        }
        guard head.forwarded else {
            droppedReplies += 1
            return .drop
        }
        let relayFollows = (reply.code == 220 && head.verb == "STARTTLS")
            || ((head.verb == "TURN" || head.verb == "ATRN") && (200..<400).contains(reply.code))
        if relayFollows, serverBytes.readableBytes > 0 {
            // What came with the reply that starts the blind relay is the engine's to judge at
            // once, as a live proxy reads it in the same read (CVE-2011-0411 class on the server side).
            var joined = raw
            joined.writeBuffer(&serverBytes)
            serverBytes = ByteBuffer()
            return .feed(joined)
        }
        return .feed(raw)
    }

    /// Bytes of an unfinished reply (at the end of the server's stream).
    mutating func takeUnfinishedServerBytes() -> ByteBuffer? {
        guard serverBytes.readableBytes > 0 else { return nil }
        defer { serverBytes = ByteBuffer() }
        return serverBytes
    }

    // MARK: - Client side

    /// The client's bytes as the proxy's client would have sent them (usually all of them).
    mutating func filterClient(_ bytes: ByteBuffer) -> ByteBuffer {
        guard case .pass = clientFilter else { return dropFiltered(bytes) }
        return bytes
    }

    private mutating func dropFiltered(_ bytes: ByteBuffer) -> ByteBuffer {
        let pattern: [UInt8] = [0x0D, 0x0A, 0x2E, 0x0D, 0x0A]
        var consumed = 0
        bytes.withUnsafeReadableBytes { raw in
            while consumed < raw.count {
                let byte = raw[consumed]
                consumed += 1
                switch clientFilter {
                case .pass:
                    return
                case .dropLine:
                    if byte == 0x0A { clientFilter = .pass }
                case .dropBody(let matched):
                    var next = byte == pattern[matched] ? matched + 1 : (byte == 0x0D ? 1 : 0)
                    if next == pattern.count {
                        clientFilter = .pass
                        next = 0
                    } else {
                        clientFilter = .dropBody(matched: next)
                    }
                }
                if case .pass = clientFilter { return }
            }
        }
        droppedClientBytes += consumed
        return bytes.getSlice(at: bytes.readerIndex + consumed, length: bytes.readableBytes - consumed) ?? ByteBuffer()
    }
}
