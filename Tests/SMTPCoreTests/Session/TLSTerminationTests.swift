import NIOCore
import SMTPCore
import Testing

/// `--tls terminate` in the engine: which legs are upgraded when, what the client is offered,
/// and that the session state resets as RFC 3207 §4.2 says.
@Suite struct TLSTerminationTests {
    private func sessionEnd(_ h: EngineHarness) -> SessionSummary? {
        guard case .sessionEnd(let summary) = h.events.last?.kind else { return nil }
        return summary
    }

    @Test func upstreamWithSTARTTLSUpgradesBothLegsInLockstep() {
        var h = EngineHarness(tlsMode: .terminate)
        h.server("220 mx ready\r\n")
        h.client("EHLO c\r\n")
        h.server("250-mx\r\n250-STARTTLS\r\n250 PIPELINING\r\n")
        #expect(h.takeToClient() == "220 mx ready\r\n250-mx\r\n250-STARTTLS\r\n250 PIPELINING\r\n")
        h.client("STARTTLS\r\n")
        #expect(h.takeToServer() == "EHLO c\r\nSTARTTLS\r\n")
        #expect(!h.engine.wantsClientInput)
        #expect(h.clientTLSStarts == 0 && h.serverTLSStarts == 0)
        h.server("220 2.0.0 Ready to start TLS\r\n")
        #expect(h.takeToClient() == "220 2.0.0 Ready to start TLS\r\n")
        #expect(h.clientTLSStarts == 1 && h.serverTLSStarts == 1)
        // From here on the engine reads the decrypted text and inspects it as usual.
        h.client("EHLO c\r\n")
        h.server("250-mx\r\n250 PIPELINING\r\n")
        #expect(h.takeToClient() == "250-mx\r\n250 PIPELINING\r\n", "no STARTTLS offered on an encrypted leg")
        h.client("MAIL FROM:<a@example.org>\r\n")
        #expect(h.takeToServer() == "EHLO c\r\nMAIL FROM:<a@example.org>\r\n")
        #expect(h.commandEvents.map(\.verb) == ["EHLO", "STARTTLS", "EHLO", "MAIL"])
        h.run(.clientClose)
        h.run(.serverClose)
        h.finish()
        #expect(sessionEnd(h)?.tls == "terminated")
    }

    @Test func upstreamWithoutSTARTTLSGetsTheProxyOffering() {
        var h = EngineHarness(tlsMode: .terminate)
        h.server("220 mx ready\r\n")
        h.client("EHLO c\r\n")
        h.server("250-mx\r\n250 PIPELINING\r\n")
        #expect(h.takeToClient() == "220 mx ready\r\n250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
        h.client("STARTTLS\r\nRCPT TO:<pipelined@x>\r\n")
        #expect(h.takeToServer() == "EHLO c\r\n", "STARTTLS answered by the proxy, nothing pipelined reaches the upstream")
        #expect(h.takeToClient() == "220 2.0.0 Ready to start TLS\r\n")
        #expect(h.clientTLSStarts == 1 && h.serverTLSStarts == 0)
        #expect(h.anomalyKinds.contains("pipelined-after-starttls"))
        #expect(h.engine.wantsClientInput)
        // Until the client greets again, transaction commands are refused by the proxy.
        h.client("MAIL FROM:<a@example.org>\r\n")
        #expect(h.takeToClient() == "503 5.5.1 Error: send HELO/EHLO first\r\n")
        h.client("EHLO c\r\n")
        h.server("250-mx\r\n250 PIPELINING\r\n")
        #expect(h.takeToClient() == "250-mx\r\n250 PIPELINING\r\n")
        h.client("MAIL FROM:<a@example.org>\r\n")
        #expect(h.takeToServer() == "EHLO c\r\nMAIL FROM:<a@example.org>\r\n")
        h.server("250 ok\r\n")
        h.client("STARTTLS\r\n")
        #expect(h.takeToClient() == "250 ok\r\n503 5.5.1 Error: TLS already active\r\n")
        h.run(.clientClose)
        h.run(.serverClose)
        h.finish()
        #expect(sessionEnd(h)?.tls == "terminated-upstream-clear")
    }

    @Test func implicitTLSClientIsNeverOfferedSTARTTLS() {
        var h = EngineHarness(tlsMode: .terminate, clientTLSAtStart: true)
        h.server("220 mx ready\r\n")
        h.client("EHLO c\r\n")
        h.server("250-mx\r\n250-STARTTLS\r\n250 SIZE 1000\r\n")
        #expect(h.takeToClient() == "220 mx ready\r\n250-mx\r\n250 SIZE 1000\r\n")
        h.client("STARTTLS\r\n")
        #expect(h.takeToClient() == "503 5.5.1 Error: TLS already active\r\n")
        #expect(h.takeToServer() == "EHLO c\r\n")
        #expect(h.clientTLSStarts == 0 && h.serverTLSStarts == 0)
        h.run(.clientClose)
        h.run(.serverClose)
        h.finish()
        #expect(sessionEnd(h)?.tls == "implicit-upstream-clear")
    }

    @Test func serverBytesAfterItsTLSReadyAreDiscarded() {
        var h = EngineHarness(tlsMode: .terminate)
        h.server("220 mx\r\n")
        h.client("EHLO c\r\n")
        h.server("250-mx\r\n250 STARTTLS\r\n")
        h.client("STARTTLS\r\n")
        _ = h.takeToClient()
        h.server("220 go ahead\r\n250 injected reply\r\n")
        #expect(h.takeToClient() == "220 go ahead\r\n")
        #expect(h.anomalyKinds.contains("pipelined-after-starttls"))
        #expect(h.serverTLSStarts == 1)
    }

    @Test func refusedSTARTTLSKeepsTheSessionInClear() {
        var h = EngineHarness(tlsMode: .terminate)
        h.server("220 mx\r\n")
        h.client("EHLO c\r\n")
        h.server("250-mx\r\n250 STARTTLS\r\n")
        h.client("STARTTLS\r\n")
        h.server("454 4.7.0 TLS not available\r\n")
        #expect(h.takeToClient().hasSuffix("454 4.7.0 TLS not available\r\n"))
        #expect(h.clientTLSStarts == 0 && h.serverTLSStarts == 0)
        h.client("MAIL FROM:<a@x>\r\n")
        #expect(h.takeToServer().hasSuffix("MAIL FROM:<a@x>\r\n"))
    }

    @Test func handshakeFailureIsAnAnomalyAndTheEndReason() {
        var h = EngineHarness(tlsMode: .terminate)
        h.server("220 mx\r\n")
        var effects = InspectionEffects()
        h.engine.tlsHandshakeFailed(.upstream, reason: "certificate verify failed", at: SMTPTimestamp(seconds: 1), into: &effects)
        guard case .anomaly(let kind, let detail) = effects.events.first?.kind else { Issue.record("no anomaly"); return }
        #expect(kind == .tlsHandshakeFailed && detail == "upstream leg: certificate verify failed")
        #expect(effects.toClient.map { String(buffer: $0) } == ["421 4.7.0 Error: TLS with the upstream failed, closing\r\n"])
        #expect(effects.closeClient && effects.closeServer)
    }

    @Test func passthroughAndStripNeverAskForTLS() {
        for mode in [TLSMode.passthrough, .strip] {
            var h = EngineHarness(tlsMode: mode)
            h.server("220 mx\r\n")
            h.client("EHLO c\r\n")
            h.server("250-mx\r\n250 STARTTLS\r\n")
            h.client("STARTTLS\r\n")
            h.server("220 go\r\n")
            #expect(h.clientTLSStarts == 0 && h.serverTLSStarts == 0)
        }
    }
}
