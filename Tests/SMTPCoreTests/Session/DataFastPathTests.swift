import NIOCore
import SMTPCore
import Testing

/// The DATA fast path (issue 6): a clean chunk inside a message goes upstream as slices of the
/// client's own buffer, never a copy. The allocation count of that path (zero per chunk) is
/// guarded by the micro-benchmark's threshold (Benchmarks/README.md): counting mallocs needs an
/// interposed allocator, which this test bundle cannot have reliably.
@Suite struct DataFastPathTests {
    static let time = SMTPTimestamp(seconds: 1_764_403_200)

    /// An engine inside a DATA body, past the header section.
    static func insideBody() -> (InspectionEngine, InspectionEffects) {
        var engine = InspectionEngine(
            configuration: InspectionConfiguration(
                sessionID: "t1", client: Endpoint(host: "192.0.2.10", port: 40000), server: Endpoint(host: "198.51.100.25", port: 25)))
        var effects = InspectionEffects()
        engine.start(at: time, into: &effects)
        for (client, server) in [
            ("", "220 mx ESMTP\r\n"), ("EHLO c\r\n", "250 mx\r\n"),
            ("MAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n", "250 ok\r\n250 ok\r\n354 go\r\n"),
        ] {
            if !client.isEmpty { engine.receiveFromClient(ByteBuffer(string: client), at: time, into: &effects) }
            engine.receiveFromServer(ByteBuffer(string: server), at: time, into: &effects)
        }
        engine.receiveFromClient(ByteBuffer(string: "Subject: s\r\n\r\n"), at: time, into: &effects)
        effects.removeAll()
        return (engine, effects)
    }

    static func sharesStorage(_ slice: ByteBuffer, with input: ByteBuffer) -> Bool {
        input.withUnsafeReadableBytes { whole in
            slice.withUnsafeReadableBytes { part in
                guard let start = part.baseAddress, let base = whole.baseAddress else { return false }
                return start >= base && start + part.count <= base + whole.count
            }
        }
    }

    @Test func cleanChunksAreForwardedAsSlicesOfTheInput() {
        var (engine, effects) = Self.insideBody()
        let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n"
        // Chunk boundaries inside a line, and a dot-stuffed line: still the fast path.
        let chunks = [
            ByteBuffer(string: String(repeating: line, count: 400) + "..stuffed\r\nQUJD"),
            ByteBuffer(string: "REVG\r\n" + String(repeating: line, count: 400) + "QUJD"),
        ]
        for chunk in chunks {
            engine.receiveFromClient(chunk, at: Self.time, into: &effects)
            #expect(effects.toServer.count == 1)
            #expect(effects.toServer.first == chunk)
            #expect(effects.toServer.allSatisfy { Self.sharesStorage($0, with: chunk) })
            #expect(effects.events.isEmpty && effects.toClient.isEmpty)
            effects.removeAll()
        }
    }
}
