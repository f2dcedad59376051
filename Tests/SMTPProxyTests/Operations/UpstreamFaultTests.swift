import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SMTPCore
import SMTPProxy
import Testing

/// SPEC §4 Faults and issue 3 item 1: the upstream's side of the session — unreachable, slow to
/// connect, lost mid-session, silent — and the addresses it may be given as (IPv4, IPv6, names).
@Suite(.serialized) struct UpstreamFaultTests {
    @Test func unreachableUpstreamGives421AsGreetingAndCloses() async throws {
        let closedPort = freeLoopbackPort()
        let proxy = try await ProxyHarness(upstreamPort: closedPort)
        defer { Task { await proxy.stop() } }

        let client = try OperationsClient(port: proxy.port)
        // A client that talks first gets the same answer: nothing it sends reaches anyone.
        try client.send("EHLO client.test\r\n")
        let replies = try client.readRepliesToEnd()
        #expect(replies.count == 1, "one reply, then the connection closes: \(replies)")
        #expect(replies.first?.hasPrefix("421 4.4.0 ") == true, "\(replies)")

        let events = proxy.waitForSessionEnds(1)
        #expect(events.first?["event"] as? String == "session-start")
        let reply = try #require(events.named("reply").first)
        #expect(reply["code"] as? Int == 421)
        #expect(reply["local"] as? Bool == true)
        let end = try #require(events.named("session-end").first)
        #expect(end["reason"] as? String == "upstream-unavailable")
        #expect(events.named("command").isEmpty, "no command was read from the client: \(events)")
    }

    /// `localhost` resolves to ::1 first on this machine and Postfix listens on 127.0.0.1 only:
    /// the proxy must try the next address rather than give up.
    @Test func upstreamAndListenerGivenAsHostNames() async throws {
        let postfix = PostfixInstance.shared
        let proxy = try await CustomProxy(
            listen: HostAndPort(host: "localhost", port: 0), upstream: HostAndPort(host: "localhost", port: postfix.port))
        defer { Task { await proxy.stop() } }
        let token = opsToken("hostname")
        let client = try OperationsClient(host: "localhost", port: proxy.port)
        try sendMessage(client, token: token)
        let delivered = try #require(postfix.waitForMessage(containing: token))
        #expect(delivered.contains("Subject: \(token)"))
        let events = proxy.waitForSessionEnds(1)
        #expect(events.named("session-end").first?["reason"] as? String == "quit")
    }

    /// IPv6 on both legs: a client on [::1] → proxy A on [::1] → proxy B on [::1] → Postfix
    /// on 127.0.0.1. Two proxies in a row, so the upstream leg of A is IPv6 with a real SMTP
    /// server behind it.
    @Test func ipv6ListenerAndUpstream() async throws {
        if let problem = ipv6LoopbackProblem() {
            Issue.record("IPv6 loopback unavailable on this machine, IPv6 not tested: \(problem)")
            return
        }
        let postfix = PostfixInstance.shared
        let inner = try await CustomProxy(listen: HostAndPort(host: "::1", port: 0), upstream: HostAndPort(host: "127.0.0.1", port: postfix.port))
        defer { Task { await inner.stop() } }
        let outer = try await CustomProxy(listen: HostAndPort(host: "::1", port: 0), upstream: HostAndPort(host: "::1", port: inner.port))
        defer { Task { await outer.stop() } }

        let token = opsToken("ipv6")
        let client = try OperationsClient(host: "::1", port: outer.port)
        try sendMessage(client, token: token)
        #expect(postfix.waitForMessage(containing: token) != nil)

        let outerStart = try #require(outer.waitForSessionEnds(1).named("session-start").first)
        #expect((outerStart["client"] as? String)?.contains("::1") == true, "\(outerStart)")
        let innerStart = try #require(inner.waitForSessionEnds(1).named("session-start").first)
        #expect((innerStart["client"] as? String)?.contains("::1") == true, "the inner proxy's client is the outer proxy, over IPv6: \(innerStart)")
        #expect(outer.events("message").first?["result"] as? Int == 250)
    }

    /// Bytes the client sends before the upstream connection exists are held, not lost. The
    /// upstream's listen queue is kept full, so the proxy's SYN is dropped and its connection
    /// can only complete (on the SYN retransmission) after the test frees the queue — by then the
    /// client's whole pipelined group is waiting in the proxy.
    @Test func bytesSentBeforeTheUpstreamIsConnectedAreHeld() async throws {
        let listener = try StalledListener()
        defer { listener.close() }
        let proxy = try await ProxyHarness(upstreamPort: listener.port)
        defer { Task { await proxy.stop() } }

        let client = try OperationsClient(port: proxy.port)
        try client.send("EHLO client.test\r\nMAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\nNOOP\r\n")
        // The proxy's connection attempt is pending in the kernel (SYN sent, dropped): the client's
        // bytes are in the proxy's hands before the upstream exists. Now let it in, play the server.
        #expect(waitUntil("the proxy's upstream connection attempt to be pending") { listener.hasPendingConnectionAttempt() })
        let upstream = try listener.admitOneMore()
        upstream.send("220 fake.test ESMTP\r\n")
        var received: [String] = []
        for reply in ["250-fake.test\r\n250 PIPELINING\r\n", "250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n", "250 2.0.0 Ok\r\n"] {
            guard let command = try upstream.readLine() else { break }
            received.append(command)
            upstream.send(reply)
        }
        #expect(received == ["EHLO client.test\r\n", "MAIL FROM:<alice@example.net>\r\n", "RCPT TO:<bob@example.org>\r\n", "NOOP\r\n"])
        let replies = try client.readReplies(5)
        #expect(replies.map { String($0.prefix(4)) } == ["220 ", "250-", "250 ", "250 ", "250 "], "\(replies)")
        #expect(replies[2].contains("2.1.0") && replies[3].contains("2.1.5") && replies[4].contains("2.0.0"), "\(replies)")
        try client.send("QUIT\r\n")
        if let quit = try upstream.readLine() {
            #expect(quit == "QUIT\r\n")
            upstream.send("221 2.0.0 Bye\r\n")
        }
        #expect(try client.readReply()?.hasPrefix("221") == true)
        upstream.close()
        let end = proxy.waitForSessionEnds(1).named("session-end").first
        #expect(end?["reason"] as? String == "quit")
    }

    /// The same against Postfix: a client that sends EHLO, MAIL, RCPT and DATA at once on
    /// connect, before any greeting, gets every reply in order and its message is delivered.
    @Test func commandsSentBeforeTheGreetingReachPostfixInOrder() async throws {
        let postfix = PostfixInstance.shared
        let proxy = try await ProxyHarness(upstreamPort: postfix.port)
        defer { Task { await proxy.stop() } }
        let token = opsToken("early")
        let client = try OperationsClient(port: proxy.port)
        try client.send("EHLO client.test\r\nMAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
        let replies = try client.readReplies(5)
        #expect(replies.map { String($0.prefix(3)) } == ["220", "250", "250", "250", "354"], "\(replies)")
        try client.send(messageText(token: token) + ".\r\nQUIT\r\n")
        let final = try client.readReplies(2)
        #expect(final[0].hasPrefix("250") && final[1].hasPrefix("221"), "\(final)")
        #expect(postfix.waitForMessage(containing: token) != nil)
    }

    /// Upstream lost mid-session (it closes when MAIL arrives): 421 4.4.2 and close.
    @Test func upstreamLostMidSessionGives421AndCloses() async throws {
        let upstream = try FakeUpstream { connection in
            connection.send("220 fake.test ESMTP\r\n")
            guard try connection.readCommand()?.verb == "EHLO" else { return }
            connection.send("250-fake.test\r\n250 PIPELINING\r\n")
            _ = try connection.readCommand()  // MAIL: hang up without a word
        }
        defer { upstream.stop() }
        let proxy = try await ProxyHarness(upstreamPort: upstream.port)
        defer { Task { await proxy.stop() } }

        let client = try OperationsClient(port: proxy.port)
        #expect(try client.readReply()?.hasPrefix("220") == true)
        try client.send("EHLO client.test\r\n")
        #expect(try client.readReply()?.hasPrefix("250") == true)
        try client.send("MAIL FROM:<alice@example.net>\r\n")
        let rest = try client.readRepliesToEnd()
        #expect(rest.count == 1 && rest[0].hasPrefix("421 4.4.2 "), "421, then closed: \(rest)")

        let events = proxy.waitForSessionEnds(1)
        let local = events.named("reply").filter { $0["local"] as? Bool == true }
        #expect(local.map { $0["code"] as? Int } == [421])
        #expect(events.named("session-end").first?["reason"] as? String == "upstream-lost")
    }

    /// Upstream lost in the middle of a message body: 421 4.4.2, closed, nothing delivered.
    @Test func upstreamLostMidDataGives421AndCloses() async throws {
        let upstream = try FakeUpstream { connection in
            connection.send("220 fake.test ESMTP\r\n")
            while let command = try connection.readCommand() {
                switch command.verb {
                case "EHLO": connection.send("250-fake.test\r\n250 PIPELINING\r\n")
                case "DATA":
                    connection.send("354 go ahead\r\n")
                    _ = try connection.readLine()  // one line of the body, then hang up
                    return
                default: connection.send("250 2.0.0 Ok\r\n")
                }
            }
        }
        defer { upstream.stop() }
        let proxy = try await ProxyHarness(upstreamPort: upstream.port)
        defer { Task { await proxy.stop() } }

        let client = try OperationsClient(port: proxy.port)
        try client.send("EHLO client.test\r\nMAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
        let replies = try client.readReplies(5)
        #expect(replies.last?.hasPrefix("354") == true, "\(replies)")
        try client.send(messageText(token: opsToken("lost-data")))
        let rest = try client.readRepliesToEnd()
        #expect(rest.count == 1 && rest[0].hasPrefix("421 4.4.2 "), "421, then closed: \(rest)")
        let events = proxy.waitForSessionEnds(1)
        #expect(events.named("session-end").first?["reason"] as? String == "upstream-lost")
        #expect(events.named("message").allSatisfy { ($0["result"] as? Int).map { $0 < 400 } != true }, "no message recorded as accepted")
    }

    /// RFC 5321 §4.5.3.2 on the upstream side: a server that never greets. With the greeting
    /// wait set to 1 s, the client gets 421 4.4.2 (the reply is the synchronisation, not a clock).
    @Test func silentUpstreamTimesOutWith421() async throws {
        let upstream = try FakeUpstream { connection in
            _ = try connection.readLine()  // never greets; waits until the proxy gives up
        }
        defer { upstream.stop() }
        var timeouts = ProxyTimeouts()
        timeouts.serverReply = 1
        let proxy = try await ProxyHarness(upstreamPort: upstream.port, timeouts: timeouts)
        defer { Task { await proxy.stop() } }
        let client = try OperationsClient(port: proxy.port)
        let replies = try client.readRepliesToEnd()
        #expect(replies.count == 1 && replies[0].hasPrefix("421 4.4.2 "), "\(replies)")
        #expect(proxy.waitForSessionEnds(1).named("session-end").first?["reason"] as? String == "timeout")
    }
}

/// A listening socket whose accept queue is kept full, so a new connection attempt stays pending
/// (its SYN is dropped) until `admitOneMore()` makes room and accepts it.
final class StalledListener {
    let port: Int
    private let fd: Int32
    private var filler: Int32 = -1

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
        // Backlog 0: the queue holds one connection; the filler takes it.
        guard listen(fd, 0) == 0 else { throw OperationsClient.Failure(description: "listen: errno \(errno)") }
        let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.filler = filler
        var target = address
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw OperationsClient.Failure(description: "filler connect: errno \(errno)") }
    }

    /// Accepts (and drops) the filler, then accepts the pending connection and returns it.
    func admitOneMore() throws -> FakeUpstream.Connection {
        let first = accept(fd, nil, nil)
        guard first >= 0 else { throw OperationsClient.Failure(description: "accept: errno \(errno)") }
        Glibc.close(first)
        Glibc.close(filler)
        filler = -1
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let second = accept(fd, nil, nil)
        guard second >= 0 else { throw OperationsClient.Failure(description: "the proxy never connected: errno \(errno)") }
        return FakeUpstream.Connection(fd: second)
    }

    /// Whether a socket on this machine is in SYN-SENT towards this listener (/proc/net/tcp).
    func hasPendingConnectionAttempt() -> Bool {
        guard let table = readProcFile("/proc/net/tcp") else { return false }
        let remote = String(format: "0100007F:%04X", port)
        return table.split(separator: "\n").dropFirst().contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[2] == remote && fields[3] == "02"
        }
    }

    func close() {
        if filler >= 0 { Glibc.close(filler) }
        Glibc.close(fd)
    }
}
