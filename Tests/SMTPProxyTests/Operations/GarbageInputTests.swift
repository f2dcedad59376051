import Foundation
import Testing

/// Hostile input (SPEC §4, issue 3 item 5): random binary, NULs, a 1 MiB line without an end.
/// The hostile connections get clean SMTP errors — well-formed replies, one per line where the
/// upstream keeps answering, in order — while a normal session on another connection, at the
/// same time, delivers its message; the proxy (a real process, so a crash would show) keeps
/// running and exits cleanly.
@Suite(.serialized) struct GarbageInputTests {
    @Test func garbageGetsCleanErrorsWhileOthersAreServed() async throws {
        let postfix = PostfixInstance.shared
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let logPath = scratch.file("audit.jsonl")
        let (proxy, port) = try ProxyProcess.listening(upstream: postfix.port, log: logPath)
        defer { proxy.kill() }
        var generator = GarbageGenerator(seed: 0x5EED_0BAD_F00D)

        // A normal session on its own connection, running while the hostile ones are served.
        let token = opsToken("beside-garbage")
        let normalStarted = DispatchSemaphore(value: 0)
        let normal = BackgroundThread { () throws -> [String] in
            defer { normalStarted.signal() }
            let client = try OperationsClient(port: port)
            var replies = try client.readReplies(1)  // the greeting: the session is established
            normalStarted.signal()
            try client.send("EHLO client.test\r\nMAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
            replies += try client.readReplies(4)
            try client.send(messageText(token: token) + ".\r\nQUIT\r\n")
            replies += try client.readReplies(2)
            return replies
        }
        normalStarted.wait()

        // 1. Pure random binary, 64 KiB. Postfix hangs up on some of it (a line that does not
        //    begin with a letter is a "non-SMTP command" to it): every reply is still a
        //    well-formed error, and the last one closes the connection.
        let random = try OperationsClient(port: port)
        #expect(try random.readReply()?.hasPrefix("220") == true)
        let blob = (0..<(64 * 1024)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        try? random.send(blob)  // the connection may be closed under it
        try? random.send("\r\nQUIT\r\n")
        let randomReplies = try random.readRepliesToEnd()
        #expect(malformed(randomReplies).isEmpty, "malformed replies: \(malformed(randomReplies).prefix(5))")
        #expect(randomReplies.dropLast().allSatisfy { $0.hasPrefix("5") }, "\(randomReplies.filter { !$0.hasPrefix("5") }.prefix(5))")
        #expect(randomReplies.last.map { $0.hasPrefix("221") || $0.hasPrefix("421") } == true, "closing reply: \(randomReplies.suffix(2))")

        // 2. Binary lines that begin like a command (so Postfix answers each): exactly one
        //    well-formed 5xx reply per line, in order, whether the proxy refuses the line (NUL,
        //    bare CR) or Postfix does; the session is usable afterwards.
        let lines = try OperationsClient(port: port)
        #expect(try lines.readReply()?.hasPrefix("220") == true)
        var garbage: [UInt8] = []
        var lineCount = 0
        while garbage.count < 64 * 1024 {
            garbage += Array("XJUNK".utf8)
            for _ in 0..<(Int(generator.next() % 200) + 1) {
                var byte = UInt8(truncatingIfNeeded: generator.next())
                if byte == 0x0A { byte = 0x00 }  // LFs only where lines are meant to end
                garbage.append(byte)
            }
            garbage += [0x0D, 0x0A]
            lineCount += 1
        }
        try lines.send(garbage)
        try lines.send("NOOP\r\nQUIT\r\n")
        let lineReplies = try lines.readRepliesToEnd()
        #expect(lineReplies.count == lineCount + 2, "one reply per line sent (\(lineCount + 2)), got \(lineReplies.count): \(lineReplies.suffix(3))")
        #expect(malformed(lineReplies).isEmpty, "malformed replies: \(malformed(lineReplies).prefix(5))")
        #expect(lineReplies.dropLast(2).allSatisfy { $0.hasPrefix("5") }, "\(lineReplies.dropLast(2).filter { !$0.hasPrefix("5") }.prefix(5))")
        #expect(lineReplies.contains { $0.hasPrefix("500 5.5.2 Error: NUL received") }, "NULs refused by the proxy")
        #expect(lineReplies.contains { $0.hasPrefix("500 5.5.2 Error: bare <CR> received") }, "bare CRs refused by the proxy")
        #expect(lineReplies.suffix(2).map { String($0.prefix(3)) } == ["250", "221"], "\(lineReplies.suffix(2))")

        // 3. NULs in otherwise valid commands, and alone: refused by the proxy, never forwarded.
        let nuls = try OperationsClient(port: port)
        #expect(try nuls.readReply()?.hasPrefix("220") == true)
        try nuls.send("NOOP\0 x\r\n\0\0\0\r\nMAIL\0FROM:<a@example.net>\r\nNOOP\r\nQUIT\r\n")
        let nulReplies = try nuls.readRepliesToEnd()
        #expect(nulReplies.map { String($0.prefix(36)) }
            == Array(repeating: "500 5.5.2 Error: NUL received in a c", count: 3) + ["250 2.0.0 Ok\r\n", "221 2.0.0 Bye\r\n"], "\(nulReplies)")

        // 4. A 1 MiB line without CRLF: dropped as it comes; when it ends, 500 line too long.
        let long = try OperationsClient(port: port)
        #expect(try long.readReply()?.hasPrefix("220") == true)
        try long.send([UInt8](repeating: UInt8(ascii: "A"), count: 1 << 20))
        try long.send("\r\nNOOP\r\nQUIT\r\n")
        let longReplies = try long.readRepliesToEnd()
        #expect(longReplies.count == 3, "\(longReplies)")
        #expect(longReplies.first?.hasPrefix("500 5.5.2 Error: line too long") == true, "\(longReplies)")
        #expect(longReplies.dropFirst().map { String($0.prefix(3)) } == ["250", "221"], "\(longReplies)")

        // The normal session went through meanwhile.
        let normalReplies = try normal.value()
        #expect(normalReplies.map { String($0.prefix(3)) } == ["220", "250", "250", "250", "354", "250", "221"], "\(normalReplies)")
        #expect(postfix.waitForMessage(containing: token) != nil)

        // The proxy is alive and serving.
        #expect(proxy.isRunning, "the proxy survived")
        let after = try OperationsClient(port: port)
        try sendMessage(after, token: token + "-after")
        #expect(postfix.waitForMessage(containing: token + "-after") != nil)

        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 0, "stderr: \(proxy.standardError.suffix(2000))")
        let events = auditEvents(at: logPath)
        let kinds = Set(events.named("anomaly").compactMap { $0["kind"] as? String })
        #expect(kinds.isSuperset(of: ["nul", "bare-cr", "line-too-long", "unknown-command"]), "\(kinds)")
        #expect(events.named("session-end").count == 6)
        // Nothing the proxy refused reached Postfix: it never saw a NUL.
        #expect(!postfix.log().contains("\\000"), "a NUL reached Postfix")
    }

    /// Replies that are not `DDD-text` / `DDD text` lines ending in CRLF.
    private func malformed(_ replies: [String]) -> [String] {
        replies.filter { reply in
            Array(reply.utf8).split(separator: 0x0A).contains { line in
                let bytes = Array(line)
                return bytes.count < 5 || !bytes[0..<3].allSatisfy { (0x30...0x39).contains($0) }
                    || (bytes[3] != 0x20 && bytes[3] != 0x2D) || bytes.last != 0x0D
            }
        }
    }

    /// An endless line (no LF ever): the proxy drops it as it comes, so its memory stays flat,
    /// and it still answers when the line finally ends.
    @Test func endlessLineIsDroppedWithFlatMemory() async throws {
        let postfix = PostfixInstance.shared
        let (proxy, port) = try ProxyProcess.listening(upstream: postfix.port)
        defer { proxy.kill() }
        let client = try OperationsClient(port: port)
        #expect(try client.readReply()?.hasPrefix("220") == true)
        let before = try #require(proxy.residentKiB())
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        var peakDuring = before
        for _ in 0..<256 {  // 256 MiB
            try client.send(chunk)
            peakDuring = max(peakDuring, try #require(proxy.residentKiB(), "VmRSS unreadable in /proc/\(proxy.pid)/status"))
        }
        try client.send("\r\nQUIT\r\n")
        let replies = try client.readRepliesToEnd()
        #expect(replies.count == 2 && replies[0].hasPrefix("500 5.5.2 Error: line too long") && replies[1].hasPrefix("221"), "\(replies)")
        let growth = peakDuring - before
        print("endless line: proxy RSS before \(before) KiB, peak while 256 MiB streamed \(peakDuring) KiB, growth \(growth) KiB")
        #expect(growth < 32 * 1024, "RSS grew by \(growth) KiB while a 256 MiB line was dropped")
        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 0)
    }
}

/// A small deterministic generator (GarbageGenerator), so "random" input is the same on every run.
struct GarbageGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D4_9BB1_33B1_11EB
        return z ^ (z >> 31)
    }
}
