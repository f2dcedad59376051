import NIOCore
import SMTPCore
import Testing

@Suite struct InspectionEngineTests {
    static let ehloReply = "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-X-EXCH50\r\n250-CHUNKING\r\n250 XEXCH50\r\n"

    @Test func plainSessionIsTransparent() {
        var h = EngineHarness()
        h.server("220 mx.example.org ESMTP\r\n")
        #expect(h.takeToClient() == "220 mx.example.org ESMTP\r\n")
        h.client("EHLO client.example\r\n")
        #expect(h.takeToServer() == "EHLO client.example\r\n")
        h.server("250-mx.example.org\r\n250 PIPELINING\r\n")
        h.client("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        h.server("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n")
        h.client("Message-ID: <1@x>\r\nSubject: Hello\r\n there\r\n\r\nBody\r\n.\r\nQUIT\r\n")
        h.server("250 2.0.0 Ok: queued\r\n221 2.0.0 Bye\r\n")
        #expect(h.takeToServer() == "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nMessage-ID: <1@x>\r\nSubject: Hello\r\n there\r\n\r\nBody\r\n.\r\nQUIT\r\n")
        #expect(h.takeToClient() == "250-mx.example.org\r\n250 PIPELINING\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued\r\n221 2.0.0 Bye\r\n")
        #expect(h.closeClient)
        #expect(h.messageEvents == [
            MessageRecord(mailFrom: "a@example.org", rcptTo: ["b@example.org"], size: 51, result: 250, messageID: "<1@x>", subject: "Hello there")
        ])
        #expect(h.replyEvents.map(\.forVerb) == ["greeting", "EHLO", "MAIL", "RCPT", "DATA", ".", "QUIT"])
        #expect(h.commandEvents.allSatisfy { $0.action == "forward" && $0.rule == nil })
        h.run(.serverClose)
        h.finish()
        guard case .sessionEnd(let summary) = h.events.last?.kind else { Issue.record("no session-end"); return }
        #expect(summary.reason == "quit")
        #expect(summary.commands == 5)
        #expect(summary.messages == 1)
    }

    @Test func rejectedCommandsAreAnsweredInPipelineOrder() {
        var h = EngineHarness(policy: TestPolicy(rejected: ["VRFY"]))
        h.server("220 ready\r\n")
        _ = h.takeToClient()
        h.client("NOOP\r\nVRFY root\r\nNOOP\r\nVRFY admin\r\n")
        #expect(h.takeToServer() == "NOOP\r\nNOOP\r\n")
        #expect(h.takeToClient() == "")  // the local reply waits for the first NOOP's
        h.server("250 2.0.0 first\r\n")
        #expect(h.takeToClient() == "250 2.0.0 first\r\n502 5.5.1 Error: command not implemented\r\n")
        h.server("250 2.0.0 second\r\n")
        #expect(h.takeToClient() == "250 2.0.0 second\r\n502 5.5.1 Error: command not implemented\r\n")
        #expect(h.commandEvents.map(\.action) == ["forward", "reject", "forward", "reject"])
        #expect(h.commandEvents[1].rule == "no-vrfy")
        #expect(h.replyEvents.map(\.local) == [false, false, true, false, true])
    }

    @Test(arguments: ["vrfy root", "VrFy root", "  VRFY root", "VRFY\troot", "VRFY   root  "])
    func ruleCannotBeEvadedByCaseOrSpacing(line: String) {
        var h = EngineHarness(policy: TestPolicy(rejected: ["VRFY"]))
        h.server("220 ready\r\n")
        h.client(line + "\r\n")
        #expect(h.takeToServer() == "")
        #expect(h.commandEvents.last?.action == "reject")
        #expect(h.commandEvents.last?.arg == "root")
    }

    @Test func bareLFCommandIsNormalizedAndStillJudged() {
        var h = EngineHarness(policy: TestPolicy(rejected: ["VRFY"]))
        h.server("220 ready\r\n")
        h.client("NOOP\nVRFY root\nRSET\r\n")
        #expect(h.takeToServer() == "NOOP\r\nRSET\r\n")
        #expect(h.anomalyKinds.filter { $0 == "bare-lf" }.count == 2)
    }

    @Test func bareCRInsideCommandIsRefusedNotForwarded() {
        var h = EngineHarness()
        h.server("220 ready\r\n")
        h.client("NOOP\rVRFY root\r\n")
        #expect(h.takeToServer() == "")
        #expect(h.takeToClient().hasSuffix("500 5.5.2 Error: bare <CR> received in a command\r\n"))
    }

    @Test func rejectPolicyClosesOnBareLF() {
        var h = EngineHarness(policy: TestPolicy(settings: PolicySettings(bareNewline: .reject)))
        h.server("220 ready\r\n")
        h.client("NOOP\n")
        #expect(h.takeToServer() == "")
        #expect(h.closeClient && h.closeServer)
        #expect(h.takeToClient().hasSuffix("550 5.5.2 Error: bare <LF> received\r\n"))
    }

    /// Found by `DifferentialDataFramingTests` (input `Hello\r\n.\r\n\rafter\r\n` after the 354):
    /// under `reject`, a bare CR pipelined right after a message's end of data closed both sides
    /// before the upstream's 250 came back, so Postfix delivered a message the log never recorded
    /// and the client never saw accepted. The refusal now waits for the replies owed before it.
    @Test func rejectPolicyAfterAnEndOfDataWaitsForItsReply() {
        var h = EngineHarness(policy: TestPolicy(settings: PolicySettings(bareNewline: .reject)))
        h.server("220 ready\r\n")
        h.client("EHLO c\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        h.server("250 hi\r\n250 ok\r\n250 ok\r\n354 go\r\n")
        _ = h.takeToClient()
        h.client("Hello\r\n.\r\n\rafter\r\n")
        #expect(h.takeToServer().hasSuffix("Hello\r\n.\r\n"))
        #expect(!h.closeServer && !h.closeClient, "closed before the upstream answered the end of data")
        #expect(h.takeToClient() == "")
        h.server("250 2.0.0 Ok: queued\r\n")
        #expect(h.takeToClient() == "250 2.0.0 Ok: queued\r\n550 5.5.2 Error: bare <CR> received\r\n")
        #expect(h.closeClient && h.closeServer)
        #expect(h.events.contains { $0.jsonLine.contains("\"event\":\"message\"") && $0.jsonLine.contains("\"result\":250") })
    }

    @Test func ehloKeywordsAreStrippedAndReframed() {
        var h = EngineHarness(policy: TestPolicy(stripped: ["X-EXCH50", "XEXCH50"]))
        h.server("220 ready\r\n")
        h.client("EHLO c\r\n")
        _ = h.takeToClient()
        h.server(Self.ehloReply)
        #expect(h.takeToClient() == "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 CHUNKING\r\n")
        #expect(h.replyEvents.last?.stripped.map(\.keyword) == ["X-EXCH50", "XEXCH50"])
        h.client("XEXCH50 100 2\r\n")
        #expect(h.takeToServer() == "EHLO c\r\n")
        #expect(h.takeToClient() == "502 5.5.1 Error: command not implemented\r\n")
        #expect(h.commandEvents.last?.rule == "strip-xexch50")
    }

    @Test func ehloKeywordLogRulesNameTheReply() {
        var policy = TestPolicy()
        policy.loggedKeywords = ["CHUNKING"]
        var h = EngineHarness(policy: policy)
        h.server("220 ready\r\n")
        h.client("EHLO c\r\n")
        h.server(Self.ehloReply)
        #expect(h.replyEvents.last?.rules == ["log-keyword-chunking"])
    }

    @Test(arguments: [
        ("250-a\r\n250-X\r\n250 B\r\n", "250-a\r\n250 B\r\n"),
        ("250-a\r\n250-B\r\n250 X\r\n", "250-a\r\n250 B\r\n"),
        ("250-a\r\n250 X\r\n", "250 a\r\n"),
        ("250-a\r\n250-X\r\n250-X=1\r\n250 \r\n", "250-a\r\n250 \r\n"),
    ])
    func strippingReframesWhicheverLineGoes(reply: String, expected: String) {
        var h = EngineHarness(policy: TestPolicy(stripped: ["X"]))
        h.server("220 ready\r\n")
        h.client("EHLO c\r\n")
        _ = h.takeToClient()
        h.server(reply)
        #expect(h.takeToClient() == expected)
    }

    @Test func chunkingStrippedRefusesBDATAndSwallowsItsChunk() {
        var h = EngineHarness(policy: TestPolicy(stripped: ["CHUNKING"]))
        h.server("220 ready\r\n")
        h.client("BDAT 12 LAST\r\nRSET\r\nNOOP\r\nRSET\r\n")
        #expect(h.takeToServer() == "RSET\r\n")
        #expect(h.takeToClient() == "220 ready\r\n502 5.5.1 Error: command not implemented\r\n")
    }

    @Test func authSecretsAreRedacted() {
        var h = EngineHarness()
        h.server("220 ready\r\n")
        h.client("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n")
        h.server("235 2.7.0 ok\r\n")
        h.client("AUTH LOGIN\r\n")
        h.server("334 VXNlcm5hbWU6\r\n")
        h.client("YWxpY2U=\r\n")
        h.server("334 UGFzc3dvcmQ6\r\n")
        h.client("c2VjcmV0\r\n")
        h.server("235 2.7.0 ok\r\n")
        #expect(h.takeToServer() == "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nAUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\n")
        let log = h.events.map(\.jsonLine).joined(separator: "\n")
        #expect(!log.contains("AGFsaWNlAHNlY3JldA"))
        #expect(!log.contains("YWxpY2U"))
        #expect(!log.contains("c2VjcmV0"))
        #expect(h.commandEvents.map(\.arg) == ["PLAIN [redacted]", "LOGIN", "[redacted]", "[redacted]"])
    }

    @Test func startTLSPassthroughDiscardsPipelinedPlaintext() {
        var h = EngineHarness()
        h.server("220 ready\r\n")
        h.client("STARTTLS\r\nMAIL FROM:<injected@x>\r\n")
        #expect(h.takeToServer() == "STARTTLS\r\n")
        #expect(!h.engine.wantsClientInput)
        h.server("220 2.0.0 Ready to start TLS\r\n")
        #expect(h.anomalyKinds.contains("pipelined-after-starttls"))
        h.client([0x16, 0x03, 0x01, 0x00, 0x05])
        #expect(Array(h.takeToServer().utf8) == [0x16, 0x03, 0x01, 0x00, 0x05])
        h.server([0x16, 0x03, 0x03])
        #expect(h.toClient.suffix(3) == [0x16, 0x03, 0x03])
        h.run(.clientClose)
        h.run(.serverClose)
        h.finish()
        guard case .sessionEnd(let summary) = h.events.last?.kind else { Issue.record("no end"); return }
        #expect(summary.tls == "passthrough")
    }

    @Test func startTLSStripKeepsInspection() {
        var h = EngineHarness(tlsMode: .strip)
        h.server("220 ready\r\n")
        h.client("EHLO c\r\n")
        h.server("250-a\r\n250-STARTTLS\r\n250 PIPELINING\r\n")
        h.client("STARTTLS\r\n")
        #expect(h.takeToClient() == "220 ready\r\n250-a\r\n250 PIPELINING\r\n502 5.5.1 Error: command not implemented\r\n")
        #expect(h.takeToServer() == "EHLO c\r\n")
    }

    @Test func rewriteIsLoggedBeforeAndAfter() {
        var policy = TestPolicy()
        policy.rewrites["MAIL"] = ("FROM:<old@legacy.example>", "FROM:<old@example.org>")
        var h = EngineHarness(policy: policy)
        h.server("220 ready\r\n")
        h.client("mail from: <old@legacy.example>\r\n")
        #expect(h.takeToServer() == "MAIL FROM:<old@example.org>\r\n")
        let record = h.commandEvents.last!
        #expect(record.action == "rewrite" && record.arg == "from: <old@legacy.example>")
        #expect(record.forwarded == "MAIL FROM:<old@example.org>")
    }

    @Test func disconnectAnswersInOrderThenCloses() {
        var h = EngineHarness(policy: TestPolicy(disconnected: ["ETRN"]))
        h.server("220 ready\r\n")
        h.client("NOOP\r\nETRN x\r\nNOOP\r\n")
        #expect(h.takeToServer() == "NOOP\r\n")
        #expect(!h.closeClient)
        h.server("250 ok\r\n")
        #expect(h.takeToClient().hasSuffix("250 ok\r\n421 4.7.0 Service not available, closing transmission channel\r\n"))
        #expect(h.closeClient && h.closeServer)
    }

    @Test func dryRunForwardsWithWouldVerdicts() {
        var h = EngineHarness(policy: TestPolicy(rejected: ["VRFY"], stripped: ["X-EXCH50"]), dryRun: true)
        h.server("220 ready\r\n")
        h.client("EHLO c\r\n")
        h.server("250-a\r\n250 X-EXCH50\r\n")
        h.client("VRFY root\r\n")
        #expect(h.takeToServer() == "EHLO c\r\nVRFY root\r\n")
        #expect(h.takeToClient() == "220 ready\r\n250-a\r\n250 X-EXCH50\r\n")
        #expect(h.commandEvents.last?.action == "would-reject")
        #expect(h.events.map(\.jsonLine).contains { $0.contains("\"action\":\"would-strip\"") })
    }

    @Test func recipientLimitAppliesPerTransaction() {
        var h = EngineHarness(policy: TestPolicy(settings: PolicySettings(maxRecipients: 2)))
        h.server("220 ready\r\n")
        h.client("MAIL FROM:<a@b>\r\nRCPT TO:<1@b>\r\nRCPT TO:<2@b>\r\nRCPT TO:<3@b>\r\n")
        #expect(h.takeToServer() == "MAIL FROM:<a@b>\r\nRCPT TO:<1@b>\r\nRCPT TO:<2@b>\r\n")
        h.server("250 ok\r\n250 ok\r\n250 ok\r\n")
        #expect(h.takeToClient().hasSuffix("250 ok\r\n452 4.5.3 Error: too many recipients\r\n"))
        #expect(h.commandEvents.last?.rule == "limits.max-recipients")
    }

    @Test func oversizedMessageIsNeverDelivered() {
        var h = EngineHarness(policy: TestPolicy(settings: PolicySettings(maxMessageSize: 10)))
        h.server("220 ready\r\n")
        h.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        h.server("250 ok\r\n250 ok\r\n354 go\r\n")
        _ = h.takeToServer()
        h.client("0123456789abcdef\r\n.\r\n")
        #expect(!h.takeToServer().contains(".\r\n"))
        #expect(h.closeServer)
        #expect(h.takeToClient().hasSuffix("552 5.3.4 Error: message size exceeds fixed limit\r\n"))
        #expect(h.messageEvents.last?.result == 552)
        h.client("QUIT\r\n")
        #expect(h.takeToClient() == "221 2.0.0 Bye\r\n")
    }

    @Test func abortedUpstreamClosingDoesNotCutTheClientShort() {
        var h = EngineHarness(policy: TestPolicy(settings: PolicySettings(maxMessageSize: 10)))
        h.server("220 ready\r\n")
        h.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        h.server("250 ok\r\n250 ok\r\n354 go\r\n")
        _ = h.takeToClient()
        h.client("0123456789abcdef\r\n")
        #expect(h.closeServer)
        h.run(.serverClose)  // the upstream connection the proxy closed goes away
        #expect(!h.closeClient)
        h.client("more\r\n.\r\n")
        #expect(h.takeToClient() == "552 5.3.4 Error: message size exceeds fixed limit\r\n")
    }

    @Test func dryRunLimitsAreWouldRejects() {
        var h = EngineHarness(policy: TestPolicy(settings: PolicySettings(maxRecipients: 1, maxMessageSize: 100)), dryRun: true)
        h.server("220 ready\r\n")
        h.client("MAIL FROM:<a@b> SIZE=1000\r\nRCPT TO:<1@b>\r\nRCPT TO:<2@b>\r\n")
        #expect(h.takeToServer() == "MAIL FROM:<a@b> SIZE=1000\r\nRCPT TO:<1@b>\r\nRCPT TO:<2@b>\r\n")
        #expect(h.commandEvents.map(\.action) == ["would-reject", "forward", "would-reject"])
        #expect(h.commandEvents.map(\.rule) == ["limits.max-message-size", nil, "limits.max-recipients"])
    }

    @Test func declaredSizeOverLimitIsRefusedAndSizeAdvertisementLowered() {
        var h = EngineHarness(policy: TestPolicy(settings: PolicySettings(maxMessageSize: 1000)))
        h.server("220 ready\r\n")
        h.client("EHLO c\r\n")
        h.server("250-a\r\n250 SIZE 0\r\n")
        #expect(h.takeToClient() == "220 ready\r\n250-a\r\n250 SIZE 1000\r\n")
        h.client("MAIL FROM:<a@b> SIZE=5000\r\n")
        #expect(h.takeToClient() == "552 5.3.4 Error: message size exceeds fixed limit\r\n")
    }

    @Test func bdatChunksAreCountedNotParsed() {
        var h = EngineHarness()
        h.server("220 ready\r\n")
        h.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 13\r\nQUIT\r\n.\r\nRSETBDAT 3 LAST\r\nabcNOOP\r\n")
        #expect(h.takeToServer() == "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 13\r\nQUIT\r\n.\r\nRSETBDAT 3 LAST\r\nabcNOOP\r\n")
        h.server("250 ok\r\n250 ok\r\n250 2.0.0 13 octets\r\n250 2.0.0 queued\r\n250 ok\r\n")
        #expect(h.messageEvents.map(\.size) == [16])
        #expect(h.commandEvents.map(\.verb) == ["MAIL", "RCPT", "BDAT", "BDAT", "NOOP"])
    }

    @Test func clientLostMidDataAbortsUpstream() {
        var h = EngineHarness()
        h.server("220 ready\r\n")
        h.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        h.server("250 ok\r\n250 ok\r\n354 go\r\n")
        h.client("partial body\r\n")
        h.run(.clientClose)
        #expect(h.closeServer)
        #expect(!h.takeToServer().hasSuffix(".\r\n"))
    }

    @Test func upstreamLostGives421() {
        var h = EngineHarness()
        h.server("220 ready\r\n")
        h.client("NOOP\r\n")
        h.run(.serverClose)
        #expect(h.takeToClient().hasSuffix("421 4.4.2 Error: connection to upstream lost, closing\r\n"))
        #expect(h.closeClient)
    }

    @Test func bytesAfterDataWaitForTheReplyThatDecidesTheirMeaning() {
        // A DATA refused upstream: what follows is commands, not a body.
        var h = EngineHarness(policy: TestPolicy(rejected: ["VRFY"]))
        h.server("220 ready\r\n")
        h.client("DATA\r\nVRFY root\r\n.\r\n")
        #expect(h.takeToServer() == "DATA\r\n")
        #expect(h.engine.wantsClientInput)  // a little read-ahead, held (not forwarded)
        #expect(h.takeToServer() == "")
        h.server("503 5.5.1 Error: need RCPT command\r\n")
        #expect(h.takeToServer() == ".\r\n")
        #expect(h.commandEvents.map(\.action) == ["forward", "reject", "forward"])
    }

    @Test func readAheadAfterDataIsBounded() {
        var h = EngineHarness()
        h.server("220 ready\r\n")
        h.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        h.server("250 ok\r\n250 ok\r\n")
        #expect(h.engine.wantsClientInput)
        h.client([UInt8](repeating: UInt8(ascii: "x"), count: SMTPDefaults.dataReadAhead - 1))
        #expect(h.engine.wantsClientInput)
        h.client("x\r\n")
        #expect(!h.engine.wantsClientInput)  // the driver stops reading: the rest waits in the socket
        #expect(h.takeToServer() == "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        h.server("354 go ahead\r\n")
        #expect(h.engine.wantsClientInput)
        #expect(h.takeToServer().utf8.count >= SMTPDefaults.dataReadAhead)  // held bytes, now body
    }

    @Test func noReadAheadAfterAuthOrStartTLS() {
        for command in ["AUTH LOGIN\r\n", "STARTTLS\r\n", "DATA\r\nAUTH LOGIN\r\n"] {
            var h = EngineHarness()
            h.server("220 ready\r\n")
            h.client(command)
            if command.hasPrefix("DATA") { h.server("503 5.5.1 Error: need RCPT command\r\n") }
            #expect(!h.engine.wantsClientInput, "\(command)")
        }
    }

    @Test func unknownVerbsAreKeptVerbatimAndReported() {
        var h = EngineHarness()
        h.server("220 ready\r\n")
        h.client("XFROB  a  b\r\n")
        #expect(h.takeToServer() == "XFROB  a  b\r\n")
        #expect(h.commandEvents.last?.verb == "XFROB")
        #expect(h.anomalyKinds.contains("unknown-command"))
    }

    @Test func bannerReplacesGreetingText() {
        var h = EngineHarness(policy: TestPolicy(settings: PolicySettings(banner: "mx.example.org ESMTP")))
        h.server("220-exchange.internal Microsoft ESMTP MAIL Service\r\n220 ready\r\n")
        #expect(h.takeToClient() == "220 mx.example.org ESMTP\r\n")
    }

    @Test func pipeliningDepthIsBounded() {
        var h = EngineHarness()
        h.server("220 ready\r\n")
        h.client(String(repeating: "NOOP\r\n", count: 5000))
        #expect(!h.engine.wantsClientInput)
        #expect(h.takeToServer().utf8.count == 6 * SMTPDefaults.maximumPipelinedCommands)
        h.server(String(repeating: "250 ok\r\n", count: 1000))
        #expect(h.takeToServer().utf8.count == 6 * SMTPDefaults.maximumPipelinedCommands)
    }
}
