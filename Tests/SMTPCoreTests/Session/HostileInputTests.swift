import TestSupport
import NIOCore
import SMTPCore
import Testing

/// Garbage on both legs, in random pieces: the engine never traps, and what it holds stays
/// bounded however much it is fed.
@Suite struct HostileInputTests {
    static let alphabet: [[UInt8]] = [
        "\r\n", "\n", "\r", "\u{0}", ".", "DATA\r\n", "BDAT 5\r\n", "BDAT 99999999999999999999\r\n", "AUTH LOGIN\r\n",
        "STARTTLS\r\n", "QUIT\r\n", "MAIL FROM:<a@b>\r\n", "RCPT TO:<c@d>\r\n", "XEXCH50 10 2\r\n", "TURN\r\n",
        "250 ok\r\n", "250-x\r\n", "354 go\r\n", "334 x\r\n", "220 go\r\n", "221 bye\r\n", "5", "-", " ", "\u{ff}",
    ].map { Array($0.utf8) }

    @Test(arguments: 0..<10)
    func randomBytesNeverTrap(batch: Int) {
        var rng = SeededGenerator(seed: UInt64(1000 + batch))
        for _ in 0..<200 {
            var h = EngineHarness(policy: SessionGenerator.policy)
            for _ in 0..<Int.random(in: 1..<60, using: &rng) {
                var bytes: [UInt8] = []
                for _ in 0..<Int.random(in: 1..<12, using: &rng) {
                    bytes += Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &rng)]
                }
                switch Int.random(in: 0..<20, using: &rng) {
                case 0: h.run(.clientClose)
                case 1: h.run(.serverClose)
                case 2...10: h.client(bytes)
                default: h.server(bytes)
                }
            }
            h.finish()
            guard case .sessionEnd = h.events.last?.kind else {
                Issue.record("no session-end")
                return
            }
        }
    }

    @Test func endlessCommandLineKeepsMemoryBounded() {
        var h = EngineHarness()
        h.server("220 ready\r\n")
        let chunk = [UInt8](repeating: UInt8(ascii: "A"), count: 64 * 1024)
        for _ in 0..<(64 * 16) { h.client(chunk) }  // 64 MiB without a line end
        h.client("\r\nNOOP\r\n")
        #expect(h.takeToServer() == "NOOP\r\n")
        #expect(h.takeToClient().hasSuffix("500 5.5.2 Error: line too long\r\n"))
        #expect(h.anomalyKinds.contains("line-too-long"))
    }

    @Test func clientThatNeverReadsIsStoppedAtThePipelineBound() {
        var h = EngineHarness()
        h.server("220 ready\r\n")
        for _ in 0..<100 { h.client(String(repeating: "NOOP\r\n", count: 1000)) }
        #expect(!h.engine.wantsClientInput)
        #expect(h.toServer.count == 6 * SMTPDefaults.maximumPipelinedCommands)
    }

    @Test func bodySentBeforeThe354IsBoundedToo() {
        var h = EngineHarness()
        h.server("220 ready\r\n")
        h.client("DATA\r\n")
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 1024 * 1024)
        for _ in 0..<8 { h.client(chunk) }
        #expect(h.anomalyKinds.contains("pipelining-overflow"))
        #expect(!h.engine.wantsClientInput)
        h.server("354 go ahead\r\n")  // the reply owed for DATA, then the proxy's 421
        #expect(h.takeToClient().hasSuffix("354 go ahead\r\n421 4.5.0 Error: too much pipelined input, closing\r\n"))
        #expect(h.closeClient && h.closeServer)
        #expect(h.takeToServer() == "DATA\r\n")
    }

    @Test func pipeliningOverflowStillDeliversTheRepliesOwed() {
        // A message's end of data is forwarded and its reply still owed when the client floods
        // past the next DATA: the client and the log get the 250 for the message, then the 421.
        var h = EngineHarness()
        h.server("220 ready\r\n")
        h.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        h.server("250 ok\r\n250 ok\r\n354 go\r\n")
        _ = h.takeToClient()
        h.client("hello\r\n.\r\nMAIL FROM:<a@x>\r\nRCPT TO:<c@y>\r\nDATA\r\n")
        let flood = [UInt8](repeating: UInt8(ascii: "x"), count: 1024 * 1024)
        for _ in 0..<5 { h.client(flood) }
        #expect(h.anomalyKinds.contains("pipelining-overflow"))
        #expect(!h.closeClient)
        h.server("250 2.0.0 queued as A1\r\n250 ok\r\n250 ok\r\n354 go\r\n")
        #expect(h.takeToClient() == "250 2.0.0 queued as A1\r\n250 ok\r\n250 ok\r\n354 go\r\n421 4.5.0 Error: too much pipelined input, closing\r\n")
        #expect(h.closeClient && h.closeServer)
        #expect(h.events.contains { if case .message = $0.kind { true } else { false } })
        #expect(!h.takeToServer().contains("xxxx"))
    }
}
