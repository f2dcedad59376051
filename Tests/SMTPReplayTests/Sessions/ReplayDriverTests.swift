import IPAddressing
import TestSupport
import Foundation
import NIOCore
import PcapCapture
import SMTPCore
import SMTPFilters
import SMTPReplay
import Testing

@Suite("ReplayDriver")
struct ReplayDriverTests {
    static func rules(_ yaml: String) throws -> RuleSet {
        let directory = try TemporaryDirectory()
        let path = try directory.write("rules.yaml", Array(yaml.utf8))
        return try RuleSet.load(paths: [path])
    }

    @Test func plainSessionInCaptureOrder() {
        let events = Conversation.replay(Conversation().segments([
            .server("220 mx.example.org ESMTP\r\n"),
            .client("EHLO client.example.org\r\n"),
            .server("250-mx.example.org\r\n250 PIPELINING\r\n"),
            .client("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n"),
            .server("250 OK\r\n250 OK\r\n354 go\r\n"),
            .client("Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n"),
            .server("250 queued\r\n221 bye\r\n"),
            .closeServer, .closeClient,
        ]))
        #expect(events.map(\.summary) == [
            "start", "reply 220 greeting", "command EHLO forward", "reply 250 EHLO", "command MAIL forward", "command RCPT forward",
            "command DATA forward", "reply 250 MAIL", "reply 250 RCPT", "reply 354 DATA", "command QUIT forward", "message 250",
            "reply 250 .", "reply 221 QUIT", "end quit",
        ])
        #expect(events.allSatisfy { $0.session == "test.pcap#0" })
        guard case .sessionStart(let client, let server, let source) = events[0].kind else { return }
        #expect(client.description == "192.0.2.10:51234" && server.description == "198.51.100.25:25" && source == "test.pcap#0")
        // Capture time, not "now".
        #expect(events[0].timestamp == SMTPTimestamp(seconds: 1_764_403_200))
    }

    @Test func repliesToRejectedCommandsAreNotPairedWithLaterOnes() throws {
        let rules = try Self.rules("""
            rules:
              - name: no-vrfy
                command: VRFY
                action: reject
                reply: "502 5.5.1 VRFY is disabled"
            """)
        let events = Conversation.replay(
            Conversation().segments([
                .server("220 mx ESMTP\r\n"),
                .client("HELO x\r\n"), .server("250 mx\r\n"),
                // Pipelined: the captured server answered VRFY (252) before MAIL (250).
                .client("VRFY root\r\nMAIL FROM:<a@b>\r\n"), .server("252 maybe\r\n250 sender ok\r\n"),
                .client("QUIT\r\n"), .server("221 bye\r\n"),
            ]), policy: rules)
        #expect(events.map(\.summary) == [
            "start", "reply 220 greeting", "command HELO forward", "reply 250 HELO", "command VRFY reject no-vrfy", "reply 502 VRFY local",
            "command MAIL forward", "reply 250 MAIL", "command QUIT forward", "reply 221 QUIT", "end quit",
        ])
        // The server's 252 never reached the engine.
        #expect(!events.contains { if case .anomaly(.unsolicitedReply, _) = $0.kind { true } else { false } })
        if case .sessionEnd(let summary) = events.last?.kind {
            #expect(summary.bytesFromServer == "220 mx ESMTP\r\n250 mx\r\n250 sender ok\r\n221 bye\r\n".utf8.count)
        }
    }

    @Test func aRefusedAuthNeverShowsTheCredentialsTheClientSentAnyway() throws {
        let rules = try Self.rules("""
            rules:
              - name: no-auth
                command: AUTH
                action: reject
                reply: "535 5.7.8 not here"
            """)
        let events = Conversation.replay(
            Conversation().segments([
                .server("220 mx ESMTP\r\n"),
                .client("EHLO x\r\n"), .server("250 mx\r\n"),
                .client("AUTH LOGIN\r\n"), .server("334 VXNlcm5hbWU6\r\n"),
                .client("dXNlcm5hbWU=\r\n"), .server("334 UGFzc3dvcmQ6\r\n"),
                .client("c2VjcmV0\r\n"), .server("235 2.7.0 ok\r\n"),
                .client("MAIL FROM:<a@b>\r\n"), .server("250 ok\r\n"),
            ]), policy: rules)
        #expect(events.map(\.summary) == [
            "start", "reply 220 greeting", "command EHLO forward", "reply 250 EHLO", "command AUTH reject no-auth", "reply 535 AUTH local",
            "command MAIL forward", "reply 250 MAIL", "end incomplete",
        ])
        let log = events.map(\.jsonLine).joined(separator: "\n")
        #expect(!log.contains("dXNlcm5hbWU") && !log.contains("c2VjcmV0"))
    }

    @Test func aRefusedDataDropsTheBodyTheClientSentAnyway() throws {
        let rules = try Self.rules("""
            rules:
              - name: no-data
                command: DATA
                action: reject
            """)
        let events = Conversation.replay(
            Conversation().segments([
                .server("220 mx ESMTP\r\n"),
                .client("HELO x\r\n"), .server("250 mx\r\n"),
                .client("MAIL FROM:<a@b>\r\n"), .server("250 ok\r\n"),
                .client("RCPT TO:<c@d>\r\n"), .server("250 ok\r\n"),
                .client("DATA\r\n"), .server("354 go\r\n"),
                .client("QUIT: not a command\r\nHELO neither\r\n.\r\n"), .server("250 queued\r\n"),
                .client("QUIT\r\n"), .server("221 bye\r\n"),
            ]), policy: rules)
        #expect(events.map(\.summary) == [
            "start", "reply 220 greeting", "command HELO forward", "reply 250 HELO", "command MAIL forward", "reply 250 MAIL",
            "command RCPT forward", "reply 250 RCPT", "command DATA reject no-data", "reply 550 DATA local", "command QUIT forward",
            "reply 221 QUIT", "end quit",
        ])
    }

    @Test func dryRunForwardsAndKeepsTheCapturedReplies() throws {
        let rules = try Self.rules("""
            rules:
              - name: no-vrfy
                command: VRFY
                action: reject
            """)
        let events = Conversation.replay(
            Conversation().segments([.server("220 mx\r\n"), .client("VRFY root\r\n"), .server("252 maybe\r\n")]), policy: rules, dryRun: true)
        #expect(events.map(\.summary) == ["start", "reply 220 greeting", "command VRFY would-reject no-vrfy", "reply 252 VRFY", "end incomplete"])
    }

    @Test func aGapEndsTheSessionsReplayWithAContentGapAnomaly() {
        var segments = Conversation(maximumSegmentSize: 20).segments([
            .server("220 mx ESMTP\r\n"),
            .client("HELO x\r\n"), .server("250 mx\r\n"),
            .client("MAIL FROM:<alice@example.org>\r\n"), .server("250 ok\r\n"),
            .client("QUIT\r\n"), .server("221 bye\r\n"),
        ])
        // Lose the first segment of the MAIL command (the server still acknowledges it).
        let index = segments.firstIndex { String(decoding: $0.payload.readableBytesView, as: UTF8.self).hasPrefix("MAIL") }!
        segments.remove(at: index)
        let events = Conversation.replay(segments)
        #expect(events.map(\.summary) == ["start", "reply 220 greeting", "command HELO forward", "reply 250 HELO", "anomaly content-gap", "end incomplete"])
        if case .anomaly(_, let detail) = events[4].kind {
            #expect(detail.hasPrefix("20 octets of the client→server stream are missing from the capture"))
            #expect(detail.contains("stops here"))
        }
    }

    @Test func otherProtocolsProduceNothing() {
        var conversation = Conversation()
        conversation.server = TCPEndpoint(address: IPAddress("198.51.100.80")!, port: 80)
        let events = Conversation.replay(conversation.segments([
            .client("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n"), .server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        ]))
        #expect(events.isEmpty)
    }

    @Test func smtpOnAnyPortAndWithoutHandshake() {
        var conversation = Conversation()
        conversation.server = TCPEndpoint(address: IPAddress("2001:db8::19")!, port: 10_025)
        conversation.client = TCPEndpoint(address: IPAddress("2001:db8::a")!, port: 40_000)
        conversation.handshake = false
        let events = Conversation.replay(conversation.segments([.client("EHLO x\r\n"), .server("250 mx\r\n")]))
        #expect(events.map(\.summary) == ["start", "command EHLO forward", "reply 250 greeting", "end incomplete"])
        if case .sessionStart(let client, let server, _) = events.first?.kind {
            #expect(client.description == "[2001:db8::a]:40000" && server.description == "[2001:db8::19]:10025")
        }
    }

    @Test func theServerSpeakingFirstIsTheServerEvenWithoutHandshake() {
        var conversation = Conversation()
        conversation.handshake = false
        // The capture starts with the server's greeting: its sender is the server.
        let events = Conversation.replay(conversation.segments([.server("220 mx ESMTP\r\n"), .client("HELO x\r\n"), .server("250 mx\r\n")]))
        #expect(events.map(\.summary) == ["start", "reply 220 greeting", "command HELO forward", "reply 250 HELO", "end incomplete"])
        if case .sessionStart(let client, _, _) = events.first?.kind { #expect(client.port == 51_234) }
    }

    @Test func aSessionInsideATunnelIsReplayedWithoutTheTunnelSetUp() {
        let events = Conversation.replay(Conversation().segments([
            .client("CONNECT mx.example.org:25 HTTP/1.0\r\n\r\n"),
            .server("HTTP/1.0 200 Connection established\r\n\r\n220 mx ESMTP\r\n"),
            .client("QUIT\r\n"), .server("221 bye\r\n"),
        ]))
        #expect(events.map(\.summary) == ["start", "anomaly tunnel", "reply 220 greeting", "command QUIT forward", "reply 221 QUIT", "end quit"])
    }

    @Test func startTLSRelaysTheRestAndJudgesWhatCameWithThe220() {
        let events = Conversation.replay(Conversation().segments([
            .server("220 mx ESMTP\r\n"),
            .client("EHLO x\r\n"), .server("250-mx\r\n250 STARTTLS\r\n"),
            .client("STARTTLS\r\n"),
            // Bytes after the 220 in the same segment would run inside TLS: discarded and reported.
            .server("220 2.0.0 go ahead\r\n250 injected\r\n"),
            .clientBytes([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]),
            .server("\u{16}\u{03}\u{03}"),
        ]))
        #expect(events.map(\.summary) == [
            "start", "reply 220 greeting", "command EHLO forward", "reply 250 EHLO", "command STARTTLS forward", "reply 220 STARTTLS",
            "anomaly pipelined-after-starttls", "end incomplete",
        ])
        if case .sessionEnd(let end) = events.last?.kind { #expect(end.tls == "passthrough") }
    }
}
