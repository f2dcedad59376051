import NIOCore
import PcapCapture
import SMTPCore
import SMTPReplay
import Testing

/// How captured sessions are cut into resend steps, and how their replies are named (no network).
@Suite("Captured conversations")
struct ConversationExtractorTests {
    static func conversations(_ name: String) throws -> [CapturedConversation] {
        try ConversationReader(path: Corpus.path(name)).conversations()
    }

    static func text(_ bytes: ByteBuffer) -> String { String(decoding: bytes.readableBytesView, as: UTF8.self) }

    @Test func plainSessionIsOneStepPerServerTurn() throws {
        let all = try Self.conversations("captures/swaks-plain.pcap")
        try #require(all.count == 1)
        let conversation = all[0]
        #expect(conversation.session == "swaks-plain.pcap#0")
        #expect(conversation.source == Corpus.path("captures/swaks-plain.pcap") + "#0")
        #expect(conversation.client.description == "127.0.0.1:38608")
        #expect(conversation.stop == nil)
        // greeting / EHLO / MAIL / RCPT / DATA / message / QUIT
        #expect(conversation.steps.count == 7)
        #expect(conversation.steps[0].clientBytes.readableBytes == 0)
        #expect(conversation.steps.map(\.replies.count) == [1, 1, 1, 1, 1, 1, 1])
        #expect(conversation.replies.map(\.index) == Array(0..<7))
        #expect(conversation.replies.map { $0.reply.code } == [220, 250, 250, 250, 354, 250, 221])
        #expect(conversation.replies.map(\.command) == [
            "(greeting)", "EHLO vm", "MAIL FROM:<alice@example.net>", "RCPT TO:<bob@example.org>", "DATA", "(end of data)", "QUIT",
        ])
        #expect(conversation.replies[1].reply.lineCount > 5)
        #expect(Self.text(conversation.steps[1].clientBytes) == "EHLO vm\r\n")
        #expect(Self.text(conversation.steps[5].clientBytes).hasSuffix("\r\n.\r\n"))
        #expect(conversation.clientByteCount == 325)
    }

    @Test func pipelinedCommandsShareAStep() throws {
        let conversation = try #require(try Self.conversations("captures/swaks-pipelining.pcap").first)
        let step = try #require(conversation.steps.first { $0.replies.count > 1 })
        #expect(step.replies.map(\.verb) == ["MAIL", "RCPT", "RCPT", "DATA"])
        #expect(step.replies.map(\.command) == ["MAIL FROM:<alice@example.net>", "RCPT TO:<bob@example.org>", "RCPT TO:<carol@example.org>", "DATA"])
        #expect(Self.text(step.clientBytes).split(separator: "\r\n").count == 4)
    }

    @Test func bdatChunksTravelWithTheirCommands() throws {
        let conversation = try #require(try Self.conversations("captures/smtplib-bdat.pcap").first)
        let bdat = conversation.replies.filter { $0.verb == "BDAT" }
        #expect(bdat.map(\.command) == ["BDAT 55", "BDAT 43 LAST"])
        #expect(bdat.map { $0.reply.code } == [250, 250])
    }

    @Test func smugglingSessionKeepsTheServersExtraReplies() throws {
        let all = try Self.conversations("captures/several-sessions.pcap")
        #expect(all.map(\.session) == (0..<4).map { "several-sessions.pcap#\($0)" })
        let smuggling = all[2]
        // The message with the smuggled one inside is one step; the vulnerable Postfix answered it 5 times.
        let step = try #require(smuggling.steps.first { Self.text($0.clientBytes).contains("\n.\r\nMAIL FROM:<ceo@example.org>") })
        #expect(step.replies.map { $0.reply.code } == [250, 250, 250, 354, 250])
        #expect(step.replies.map(\.command) == ["(end of data)", nil, nil, nil, nil])
        #expect(smuggling.replies.count == 11)
    }

    @Test func startTLSEndsTheConversation() throws {
        let conversation = try #require(try Self.conversations("captures/swaks-starttls.pcap").first)
        #expect(conversation.stop == .startTLS(step: 2))
        #expect(conversation.steps.count == 3)
        let last = try #require(conversation.replies.last)
        #expect(last.verb == "STARTTLS" && last.reply.code == 220)
        #expect(Self.text(conversation.steps[2].clientBytes) == "STARTTLS\r\n")
    }

    @Test func authSecretsAreSentButNotNamed() throws {
        let all = try Self.conversations("captures/smtplib-auth.pcap")
        try #require(all.count == 2)
        // smtplib's login("alice", "secret"): AUTH PLAIN with an initial response, then AUTH LOGIN in two steps.
        #expect(Self.text(all[0].steps[2].clientBytes) == "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n")
        #expect(all[0].replies[2].command == "AUTH PLAIN [redacted]")
        #expect(all[1].replies[2...4].map(\.command) == ["AUTH LOGIN", "AUTH-RESPONSE [redacted]", "AUTH-RESPONSE [redacted]"])
        let names = all.flatMap(\.replies).compactMap(\.command).joined(separator: " ")
        for secret in AuthSecrets.all { #expect(!names.contains(secret)) }
    }

    @Test func ipv6SessionKeepsItsAddresses() throws {
        let conversation = try #require(try Self.conversations("captures/curl-ipv6.pcap").first)
        #expect(conversation.client.host == "::1")
        #expect(conversation.server.description == "[::1]:40063")
    }

    @Test func aGapEndsTheConversationBeforeTheStepInProgress() {
        var s = Segments()
        let segments = [
            s.segment(.b, seq: 100, ack: 1, "220 mx ESMTP\r\n"),
            s.segment(.a, seq: 1, ack: 114, "EHLO x\r\n"),
            s.segment(.b, seq: 114, ack: 9, "250 mx\r\n"),
            s.segment(.a, seq: 9, ack: 122, "MAIL FROM:<a@b>\r\n"),
            s.segment(.b, seq: 122, ack: 26, "250 ok\r\n"),
            s.segment(.a, seq: 26, ack: 130, "DATA", missing: 96),
            s.segment(.b, seq: 130, ack: 126, "354 go\r\n"),
        ]
        var extractor = ConversationExtractor(source: "gap.pcap", sessionPrefix: "gap.pcap")
        var done: [CapturedConversation] = []
        for segment in segments { extractor.process(segment, into: &done) }
        extractor.finish(into: &done)
        #expect(done.count == 1)
        #expect(done.first?.stop == .gap(stream: "client→server", count: 96))
        #expect(done.first?.steps.count == 3)
        #expect(done.first?.replies.map { $0.reply.code } == [220, 250, 250])
    }

    @Test func notSMTPGivesNoConversation() {
        let segments = Conversation().segments([.server("+OK POP3 ready\r\n"), .client("USER a\r\n"), .server("+OK\r\n")])
        var extractor = ConversationExtractor(source: "pop.pcap", sessionPrefix: "pop.pcap")
        var done: [CapturedConversation] = []
        for segment in segments { extractor.process(segment, into: &done) }
        extractor.finish(into: &done)
        #expect(done.isEmpty)
    }

    @Test func aClientThatSpeaksFirstSendsBeforeTheGreeting() {
        let segments = Conversation().segments([
            .client("EHLO early\r\n"), .server("220 mx ESMTP\r\n250 mx\r\n"), .client("QUIT\r\n"), .server("221 bye\r\n"), .closeServer,
            .closeClient,
        ])
        var extractor = ConversationExtractor(source: "early.pcap", sessionPrefix: "early.pcap")
        var done: [CapturedConversation] = []
        for segment in segments { extractor.process(segment, into: &done) }
        extractor.finish(into: &done)
        let conversation = done.first
        #expect(conversation?.steps.count == 2)
        #expect(conversation.map { Self.text($0.steps[0].clientBytes) } == "EHLO early\r\n")
        #expect(conversation?.steps[0].replies.map(\.command) == ["(greeting)", "EHLO early"])
    }
}

/// smtplib's login("alice", "secret") in captures/smtplib-auth.pcap, as it appears on the wire.
enum AuthSecrets {
    /// AUTH PLAIN's initial response (`\0alice\0secret`), AUTH LOGIN's user name and password.
    static let all = ["AGFsaWNlAHNlY3JldA==", "YWxpY2U=", "c2VjcmV0"]
}
