import Foundation
import Testing

/// Hostile clients against the built binary (issue 7 item 3): slowloris, a connection flood over
/// `--max-connections`, a 1 GiB DATA line without a line end, 100,000 pipelined commands from a
/// client that does not read, an upstream that stops reading. Meanwhile well-behaved clients are
/// served and their messages arrive exactly once; the proxy's peak RSS (VmHWM, /proc) is printed
/// and bounded. Conditions are polled with deadlines; nothing asserts on time.
///
/// Not repeated here (see `Operations/`): a 1 GiB message of normal lines and a slow upstream in
/// DATA (`BackpressureTests`), a 256 MiB command line (`GarbageInputTests`), 200 × 5 concurrent
/// messages (`ConcurrentLoadTests`), `--max-connections 2` slot reuse (`ConnectionLimitTests`).
@Suite(.serialized) struct HostileClientTests {
    static let memoryBound = 128 * 1024  // KiB

    /// 200 clients that send one byte per second (a partial EHLO line, for about 5 s) hold
    /// their sessions open while 10 well-behaved clients deliver 5 messages each into Postfix:
    /// all 50 arrive, each exactly once; then the slow clients finish their lines and are served.
    @Test func slowlorisClientsDoNotStarveOthers() async throws {
        let postfix = try DedicatedPostfix.instance("hostile")
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (proxy, port) = try startHostileProxy(upstreamPort: postfix.port, scratch: scratch)
        defer { proxy.kill() }

        let slowCount = 200
        let slow = try (0..<slowCount).map { _ in try OperationsClient(port: port, timeout: 60) }
        for client in slow { #expect(try client.readReply()?.hasPrefix("220") == true) }
        let line = Array("EHLO slow.test\r\n".utf8)
        let dripped = Array(line.prefix(5))  // "EHLO " a byte a second; the rest at the end
        let drip = BackgroundThread { () throws -> Void in
            for byte in dripped {
                let started = Date()
                for client in slow { try client.send([byte]) }
                // Pacing of the attack itself (a byte per second), not synchronisation.
                let rest = 1.0 - Date().timeIntervalSince(started)
                if rest > 0 { usleep(UInt32(rest * 1_000_000)) }
            }
        }

        let token = opsToken("beside-slowloris")
        let good = runOnThreads(10, threads: 10) { index in
            let client = try OperationsClient(port: port, timeout: 60)
            let greeting = try client.readReply() ?? "<closed>"
            try client.send("EHLO good\(index).test\r\n")
            let ehlo = try client.readReply() ?? "<closed>"
            guard greeting.hasPrefix("220"), ehlo.hasPrefix("250") else { throw OperationsClient.Failure(description: "\(greeting) \(ehlo)") }
            for message in 0..<5 {
                try client.send("MAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
                let replies = try client.readReplies(3)
                guard replies.map({ $0.prefix(3) }) == ["250", "250", "354"] else { throw OperationsClient.Failure(description: "\(replies)") }
                try client.send(messageText(token: "\(token)-c\(index)-m\(message)") + ".\r\n")
                guard try client.readReply()?.hasPrefix("250") == true else { throw OperationsClient.Failure(description: "message refused") }
            }
            try client.send("QUIT\r\n")
            _ = try client.readReply()
        }
        #expect(good.isEmpty, "well-behaved clients failed beside slowloris: \(good.prefix(3))")
        let delivered = postfix.waitForMessages(containing: token, count: 50)
        let subjects = delivered.compactMap { message in message.split(separator: "\n").first { $0.hasPrefix("Subject: ") } }
        #expect(subjects.count == 50 && Set(subjects).count == 50, "\(subjects.count) delivered, \(Set(subjects).count) distinct")

        try drip.value()
        for client in slow { try client.send(Array(line.dropFirst(dripped.count)) + Array("QUIT\r\n".utf8)) }
        var served = 0
        for client in slow {
            if try client.readReplies(2).map({ $0.prefix(3) }) == ["250", "221"] { served += 1 }
        }
        #expect(served == slowCount, "\(served) of \(slowCount) slow clients were served in the end")
        let peak = try #require(proxy.peakResidentKiB(), "VmHWM unreadable in /proc/\(proxy.pid)/status")
        print("hostile (slowloris): \(slowCount) clients at a byte a second, 10 × 5 messages delivered beside them; proxy VmHWM \(peak) KiB")
        #expect(peak < Self.memoryBound)
        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 0)
    }

    /// 10,000 connection attempts against `--max-connections 1000`: the first 1000 are held open
    /// (greeted), the other 9,000 get `421 4.7.0` and are closed; the proxy stays up, and once the
    /// held ones go, a well-behaved client is served.
    @Test func tenThousandConnectionsAgainstAThousandSlots() async throws {
        let sink = try SinkUpstream()
        defer { sink.stop() }
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (proxy, port) = try startHostileProxy(upstreamPort: sink.port, scratch: scratch, extra: ["--max-connections", "1000"])
        defer { proxy.kill() }

        let held = LockedBox<[OperationsClient]>([])
        let holding = runOnThreads(1000, threads: 8) { _ in
            let client = try OperationsClient(port: port, timeout: 60)
            guard let greeting = try client.readReply(), greeting.hasPrefix("220") else {
                throw OperationsClient.Failure(description: "a client within the limit was not greeted")
            }
            held.withLock { $0.append(client) }
        }
        #expect(holding.isEmpty, "\(holding.count) of the first 1000 failed: \(holding.prefix(3))")

        let refusals = LockedBox<[String: Int]>([:])
        let excess = runOnThreads(9000, threads: 8) { _ in
            let client = try OperationsClient(port: port, timeout: 60)
            let replies = try client.readRepliesToEnd()
            let key = replies.count == 1 && replies[0].hasPrefix("421 4.7.0") ? "421" : "\(replies.map { $0.prefix(3) })"
            refusals.withLock { $0[key, default: 0] += 1 }
        }
        #expect(excess.isEmpty, "\(excess.count) excess attempts failed: \(excess.prefix(3))")
        #expect(refusals.withLock { $0 } == ["421": 9000], "\(refusals.withLock { $0 })")
        let peak = try #require(proxy.peakResidentKiB(), "VmHWM unreadable in /proc/\(proxy.pid)/status")
        #expect(proxy.isRunning)

        // The held sessions still work, then go.
        let clients = held.withLock { $0 }
        try clients[0].send("NOOP\r\n")
        #expect(try clients[0].readReply()?.hasPrefix("250") == true)
        for client in clients { client.close() }
        let logPath = scratch.file("audit.jsonl")
        _ = waitUntil("10,000 session-end events", timeout: 120) { auditEvents(at: logPath).named("session-end").count >= 10_000 }
        let reasons = auditEvents(at: logPath).named("session-end").reduce(into: [String: Int]()) { $0[($1["reason"] as? String) ?? "?", default: 0] += 1 }
        #expect(reasons["max-connections"] == 9000, "\(reasons)")

        var served = false
        _ = waitUntil("a well-behaved client to be served after the flood") {
            served = wellBehavedSessionSucceeds(port: port, token: opsToken("after-flood"))
            return served
        }
        print("hostile (connection flood): 1000 held + 9000 refused with 421 at --max-connections 1000; reasons \(reasons); proxy VmHWM \(peak) KiB")
        #expect(peak < 2 * Self.memoryBound, "1000 open sessions took \(peak) KiB")
        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 0)
    }

    /// One DATA line of 1 GiB without CRLF streams through (the audit log's size is the whole
    /// line) with flat memory, while another client delivers a message.
    @Test func oneGiBDataLineWithoutALineEndStreams() async throws {
        let sink = try SinkUpstream()
        defer { sink.stop() }
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        // No rules: the shipped max-message-size (50 MiB) would refuse the line, rightly.
        let (proxy, port) = try startHostileProxy(upstreamPort: sink.port, scratch: scratch, filters: false)
        defer { proxy.kill() }
        let client = try OperationsClient(port: port, timeout: 300)
        try client.send("EHLO client.test\r\nMAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
        try #require(try client.readReplies(5).last?.hasPrefix("354") == true)
        let before = try #require(proxy.residentKiB())
        let size = 1 << 30
        let chunk = [UInt8](repeating: UInt8(ascii: "y"), count: 1 << 20)
        for index in 0..<(size / chunk.count) {
            try client.send(chunk)
            if index == size / chunk.count / 2 {
                #expect(wellBehavedSessionSucceeds(port: port, token: opsToken("beside-gib-line")), "a client beside the 1 GiB line was not served")
            }
        }
        try client.send("\r\n.\r\nQUIT\r\n")
        let replies = try client.readReplies(2)
        #expect(replies.map { String($0.prefix(3)) } == ["250", "221"], "\(replies)")
        let peak = try #require(proxy.peakResidentKiB())
        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 0)
        let sizes = auditEvents(at: scratch.file("audit.jsonl")).named("message").compactMap { $0["size"] as? Int }
        #expect(sizes.contains(size + 2), "the line and its CRLF: \(sizes)")
        print("hostile (1 GiB DATA line, no CRLF): proxy VmRSS \(before) KiB before, VmHWM \(peak) KiB after; growth \(peak - before) KiB")
        #expect(peak < Self.memoryBound && peak - before < 32 * 1024)
    }

    /// 100,000 pipelined commands (NOOP, a VRFY the rules refuse, RSET) from a client that reads
    /// nothing until all are sent or it is held back: memory stays bounded, another client is
    /// served; then all 100,000 replies arrive, in order, the proxy's own among the upstream's.
    @Test func hundredThousandPipelinedCommandsWithoutReading() async throws {
        let sink = try SinkUpstream()
        defer { sink.stop() }
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (proxy, port) = try startHostileProxy(upstreamPort: sink.port, scratch: scratch)
        defer { proxy.kill() }
        let client = try OperationsClient(port: port, timeout: 120)
        #expect(try client.readReply()?.hasPrefix("220") == true)
        try client.send("EHLO client.test\r\n")
        #expect(try client.readReply()?.hasPrefix("250") == true)
        let before = try #require(proxy.residentKiB())

        let pattern = ["NOOP\r\n", "VRFY root\r\n", "RSET\r\n"].map { Array($0.utf8) }
        let count = 100_000
        var next = 0
        let push = try client.pushUntilStalled {
            guard next < count else { return nil }
            let end = min(next + 1000, count)
            defer { next = end }
            return (next..<end).flatMap { pattern[$0 % 3] }
        }
        let during = try #require(proxy.residentKiB())
        print("hostile (100,000 pipelined): \(push.complete ? "all" : "held back after") \(next) commands went in (\(client.pushed >> 10) KiB) "
            + "without a reply read; proxy VmRSS \(before) KiB before, \(during) KiB then")
        // Whether the client is held back depends on the kernel's socket buffers (100,000 short
        // commands and their replies fit in loopback's); the bound is the proxy's memory.
        #expect(during - before < 32 * 1024)
        #expect(wellBehavedSessionSucceeds(port: port, token: opsToken("beside-pipeline")), "a client beside the pipeline was not served")

        let resumeAt = next
        let writer = BackgroundThread { () throws -> Void in
            try client.send(push.pending)
            for start in stride(from: resumeAt, to: count, by: 1000) {
                try client.send((start..<min(start + 1000, count)).flatMap { pattern[$0 % 3] })
            }
            try client.send("QUIT\r\n")
        }
        var outOfOrder: [String] = []
        for index in 0..<count {
            let reply = try client.readReply() ?? "<closed>"
            let expected = index % 3 == 1 ? "502 5.5.1 VRFY and EXPN" : "250 "
            if !reply.hasPrefix(expected) && outOfOrder.count < 5 { outOfOrder.append("#\(index): \(reply)") }
        }
        #expect(try client.readReply()?.hasPrefix("221") == true)
        try writer.value()
        #expect(outOfOrder.isEmpty, "replies out of order: \(outOfOrder)")
        let peak = try #require(proxy.peakResidentKiB())
        print("hostile (100,000 pipelined): all replies in order; proxy VmHWM \(peak) KiB")
        #expect(peak < Self.memoryBound)
        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 0)
    }

    /// An upstream that stops reading (after EHLO) for one session: that session's client is held
    /// back with flat memory, other sessions are served meanwhile; when the stalled client gives up,
    /// the proxy lets the session go and keeps serving.
    @Test func upstreamThatStopsReadingHoldsOnlyItsOwnSession() async throws {
        let gate = FakeUpstream.Gate()
        let sessions = LockedBox(0)
        let upstream = try FakeUpstream { connection in
            let number = sessions.withLock { value -> Int in
                value += 1
                return value
            }
            // The first session's upstream reads nothing after EHLO.
            try connection.serveAcceptingEverything(afterEHLO: { if number == 1 { gate.wait() } })
        }
        defer {
            gate.open()
            upstream.stop()
        }
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (proxy, port) = try startHostileProxy(upstreamPort: upstream.port, scratch: scratch)
        defer { proxy.kill() }

        let stalled = try OperationsClient(port: port)
        #expect(try stalled.readReply()?.hasPrefix("220") == true)
        try stalled.send("EHLO stalled.test\r\n")
        #expect(try stalled.readReply()?.hasPrefix("250") == true)
        #expect(waitUntil("the upstream to stop reading") { gate.hasWaiter })
        let before = try #require(proxy.residentKiB())
        let filler = Array(String(repeating: "NOOP " + String(repeating: "n", count: 500) + "\r\n", count: 100).utf8)
        var pushed = 0
        let push = try stalled.pushUntilStalled {
            guard pushed < 256 << 20 else { return nil }
            pushed += filler.count
            return filler
        }
        let during = try #require(proxy.residentKiB())
        #expect(!push.complete, "256 MiB went in although the upstream read nothing")
        #expect(during - before < 32 * 1024, "RSS grew by \(during - before) KiB")
        print("hostile (upstream stops reading): client held back after \(stalled.pushed >> 10) KiB; proxy VmRSS \(before) KiB before, \(during) KiB then")

        var servedBeside = 0
        for index in 0..<5 where wellBehavedSessionSucceeds(port: port, token: opsToken("beside-stalled-\(index)")) { servedBeside += 1 }
        #expect(servedBeside == 5, "\(servedBeside) of 5 sessions were served beside the stalled one")

        // The client gives up. The proxy keeps the upstream leg while commands it forwarded await
        // replies (to log them; bounded by the RFC 5321 reply timeouts); once the upstream reads
        // again and answers, the session ends.
        stalled.reset()
        gate.open()
        let logPath = scratch.file("audit.jsonl")
        _ = waitUntil("the stalled session to end", timeout: 60) { auditEvents(at: logPath).named("session-end").count >= 6 }
        #expect(proxy.isRunning)
        #expect(wellBehavedSessionSucceeds(port: port, token: opsToken("after-stalled")))
        let peak = try #require(proxy.peakResidentKiB(), "VmHWM unreadable in /proc/\(proxy.pid)/status")
        print("hostile (upstream stops reading): proxy VmHWM \(peak) KiB")
        #expect(peak < Self.memoryBound)
        gate.open()
        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 0)
    }
}
