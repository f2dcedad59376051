import Foundation
import IPAddressing
import NIOCore
import SMTPProxy
import Testing

/// `--proxy-protocol-in` and `--proxy-protocol-out` in the in-process proxy, with raw sockets for
/// exact bytes and a fake upstream that shows what reaches the server (and whether anything does).
@Suite(.serialized) struct ProxyProtocolDecoderTests {
    /// `--proxy-protocol-in --proxy-protocol-from 127.0.0.1/32`, and `--proxy-protocol-out`.
    static func settings(outgoing: ProxyProtocolVersion? = nil, headerTimeout: TimeAmount = .seconds(5)) throws -> ProxyProtocolSettings {
        ProxyProtocolSettings(
            acceptsHeader: true, allowedPeers: [try CIDR(parsing: "127.0.0.1/32")], outgoing: outgoing, headerTimeout: headerTimeout)
    }

    /// A fake server that greets and answers every command (`221` to QUIT); with `expectsHeader`
    /// it first reads one line (the PROXY header the proxy sends) and records it.
    private static func fakeUpstream(expectsHeader: Bool, headers: LockedBox<[String]>) throws -> FakeUpstream {
        try FakeUpstream { connection in
            if expectsHeader {
                let header = try connection.readLine() ?? "<closed>"
                headers.withLock { $0.append(header) }
            }
            connection.send("220 upstream.test ESMTP\r\n")
            while let (verb, _) = try connection.readCommand() {
                connection.send(verb == "QUIT" ? "221 bye\r\n" : "250 ok\r\n")
                if verb == "QUIT" { return }
            }
        }
    }

    /// The header and the client's first command in one write: the session is the header's
    /// client, the upstream gets our own v1 header for it before any SMTP byte, the command after
    /// the header reaches the engine intact, and neither audit log nor recording holds a header.
    @Test func headerThenSMTPInOneWrite() async throws {
        let firstLines = LockedBox<[String]>([])
        let upstream = try Self.fakeUpstream(expectsHeader: true, headers: firstLines)
        defer { upstream.stop() }
        let settings = try Self.settings(outgoing: .v1)
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let proxy = try await ProxyHarness(upstreamPort: upstream.port, recordPath: scratch.file("rec.pcap"), proxyProtocol: settings)
        defer { Task { await proxy.stop() } }
        let port = proxy.port
        let replies = try await onThread {
            let client = try RawSMTPClient(port: port)
            try client.send("PROXY TCP4 203.0.113.9 198.51.100.25 40001 25\r\nNOOP\r\n")
            let replies = try client.readReplies(2)
            try client.send("QUIT\r\n")
            return replies + [try client.readReply() ?? "<closed>"]
        }
        #expect(replies.map { String($0.prefix(3)) } == ["220", "250", "221"], "\(replies)")
        let events = proxy.waitForSessionEnds(1)
        let start = try #require(events.first { $0["event"] as? String == "session-start" })
        #expect(start["client"] as? String == "203.0.113.9:40001", "\(start)")
        #expect(firstLines.withLock { $0 } == ["PROXY TCP4 203.0.113.9 198.51.100.25 40001 25\r\n"])
        #expect(proxy.events("command").compactMap { $0["verb"] as? String } == ["NOOP", "QUIT"])
        let logText = try String(contentsOfFile: proxy.logPath, encoding: .utf8)
        #expect(!logText.contains("PROXY"))
        await proxy.server.shutdown()
        let recording = try Data(contentsOf: URL(fileURLWithPath: scratch.file("rec.pcap")))
        #expect(recording.range(of: Data("NOOP\r\n".utf8)) != nil)
        #expect(recording.range(of: Data("PROXY ".utf8)) == nil)
    }

    /// v2 LOCAL (a balancer's health check) keeps the socket's addresses, and the header sent
    /// upstream names them: the balancer's address and the proxy's listener.
    @Test func localCommandKeepsTheSocketAddresses() async throws {
        let firstLines = LockedBox<[String]>([])
        let upstream = try Self.fakeUpstream(expectsHeader: true, headers: firstLines)
        defer { upstream.stop() }
        let settings = try Self.settings(outgoing: .v1)
        let proxy = try await ProxyHarness(upstreamPort: upstream.port, proxyProtocol: settings)
        defer { Task { await proxy.stop() } }
        let port = proxy.port
        let local: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0x00, 0x00]
        let replies = try await onThread {
            let client = try RawSMTPClient(port: port)
            try client.send(local)
            return [try client.readReply() ?? "<closed>", try client.command("QUIT")]
        }
        #expect(replies.map { String($0.prefix(3)) } == ["220", "221"], "\(replies)")
        let start = try #require(proxy.waitForSessionEnds(1).first { $0["event"] as? String == "session-start" })
        #expect((start["client"] as? String)?.hasPrefix("127.0.0.1:") == true, "\(start)")
        let header = firstLines.withLock { $0.first } ?? ""
        #expect(header.hasPrefix("PROXY TCP4 127.0.0.1 127.0.0.1 ") && header.hasSuffix(" \(port)\r\n"), "\(header.debugDescription)")
    }

    enum BadStart: String, CaseIterable {
        case refusedPeer, smtpInsteadOfHeader, malformedV1, oversizedV1, truncatedAtEOF, silence
    }

    /// Each bad start is closed without a byte sent back and without any upstream connection;
    /// a good session right after is the only one the upstream ever sees.
    @Test(arguments: BadStart.allCases)
    func badStartsAreClosedBeforeAnyUpstreamConnection(_ bad: BadStart) async throws {
        let firstLines = LockedBox<[String]>([])
        let upstream = try Self.fakeUpstream(expectsHeader: false, headers: firstLines)
        defer { upstream.stop() }
        let settings = try Self.settings(headerTimeout: .milliseconds(300))
        let proxy = try await ProxyHarness(upstreamPort: upstream.port, proxyProtocol: settings)
        defer { Task { await proxy.stop() } }
        let port = proxy.port
        let answer = try await onThread { () throws -> String in
            let client = try RawSMTPClient(port: port, source: bad == .refusedPeer ? "127.0.0.9" : nil)
            switch bad {
            case .refusedPeer: try client.send("PROXY TCP4 203.0.113.9 198.51.100.25 40001 25\r\nQUIT\r\n")
            case .smtpInsteadOfHeader: try client.send("EHLO client.test\r\n")
            case .malformedV1: try client.send("PROXY TCP4 203.0.113.9 198.51.100.25 40001 025\r\nQUIT\r\n")
            case .oversizedV1: try client.send("PROXY UNKNOWN " + String(repeating: "x", count: 200) + "\r\n")
            case .truncatedAtEOF:
                try client.send("PROXY TCP4 203.0.113.9 198.51.")
                client.shutdownWrite()
            case .silence: break
            }
            return try client.readToEnd()
        }
        #expect(answer.isEmpty, "\(bad): \(answer)")
        let good = try await onThread { () throws -> String in
            let client = try RawSMTPClient(port: port)
            try client.send("PROXY TCP4 203.0.113.10 198.51.100.25 40002 25\r\n")
            return [try client.readReply() ?? "<closed>", try client.command("QUIT")].joined()
        }
        #expect(good.hasPrefix("220") && good.contains("221"), "\(good)")
        let events = proxy.waitForSessionEnds(1)
        #expect(upstream.accepted == 1)
        #expect(events.filter { $0["event"] as? String == "session-start" }.compactMap { $0["client"] as? String } == ["203.0.113.10:40002"])
    }
}
