import Foundation
import Testing

/// Memory over a long session (issue 3 item 2: "a slow upstream never lets a fast client fill
/// memory"; the engine is meant to hold at most one line): a client and a server that both keep
/// up, exchanging 64 MiB of pipelined commands or of replies, must leave the proxy's memory
/// flat — whatever passed through is gone. The proxy runs as a process; its peak RSS (VmHWM)
/// is compared with its RSS before the stream. Bound: 16 MiB (a proxy that keeps one line or
/// reply per session grows by about 1.5 MiB here; one that keeps what passed grows by 34 to
/// 180 MiB, depending on where the reads happen to end).

@Suite(.serialized) struct StreamingMemoryTests {
    static let volume = 64 << 20
    static let bound = 16 * 1024

    /// 1021-octet command lines, pipelined: almost every read of the client ends inside a line.
    @Test func longPipelinedCommandStreamKeepsMemoryFlat() async throws {
        let upstream = try FakeUpstream.answering(as: "echo.test")
        defer { upstream.stop() }
        let (proxy, port) = try ProxyProcess.listening(upstream: upstream.port)
        defer { proxy.kill() }
        let client = try OperationsClient(port: port, timeout: 120)
        try client.send("EHLO client.test\r\n")
        _ = try client.readReplies(2)
        let before = try #require(proxy.residentKiB())

        let line = Array(("NOOP " + String(repeating: "x", count: 1014) + "\r\n").utf8)
        let lines = Self.volume / line.count
        let reader = BackgroundThread { () throws -> Int in
            var count = 0
            while let reply = try client.readReply(), reply.hasPrefix("250") { count += 1 }
            return count
        }
        let batch = [UInt8]((0..<256).flatMap { _ in line })
        for _ in 0..<(lines / 256) { try client.send(batch) }
        try client.send("QUIT\r\n")
        let replies = try reader.value()
        let peak = try #require(proxy.peakResidentKiB())
        print("streaming (commands): \(lines / 256 * 256) pipelined 1021-octet lines; proxy VmRSS \(before) KiB before, VmHWM \(peak) KiB; growth \(peak - before) KiB")
        #expect(replies == lines / 256 * 256, "one reply per line")
        #expect(peak - before < Self.bound, "the proxy's peak RSS grew by \(peak - before) KiB over \(Self.volume >> 20) MiB of commands")
        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 0)
    }

    /// 4 KiB multi-line replies, one per pipelined NOOP; the reads of the upstream end inside
    /// replies.
    @Test func longReplyStreamKeepsMemoryFlat() async throws {
        let reply = "250-" + String(repeating: "r", count: 4000) + "\r\n250 2.0.0 Ok\r\n"
        let upstream = try FakeUpstream.answering(as: "echo.test", reply: reply)
        defer { upstream.stop() }
        let (proxy, port) = try ProxyProcess.listening(upstream: upstream.port)
        defer { proxy.kill() }
        let client = try OperationsClient(port: port, timeout: 120)
        try client.send("EHLO client.test\r\n")
        _ = try client.readReplies(2)
        let before = try #require(proxy.residentKiB())

        let commands = Self.volume / reply.utf8.count
        let writer = BackgroundThread { () throws -> Void in
            let batch = Array(String(repeating: "NOOP\r\n", count: 100).utf8)
            for _ in 0..<(commands / 100) { try client.send(batch) }
            try client.send("QUIT\r\n")
        }
        var count = 0
        var intact = true
        while let received = try client.readReply(), received.hasPrefix("250") {
            intact = intact && received == reply
            count += 1
        }
        try writer.value()
        let peak = try #require(proxy.peakResidentKiB())
        print("streaming (replies): \(count) replies of 4 KiB; proxy VmRSS \(before) KiB before, VmHWM \(peak) KiB; growth \(peak - before) KiB")
        #expect(count == commands / 100 * 100)
        #expect(intact, "every reply arrived unchanged")
        #expect(peak - before < Self.bound, "the proxy's peak RSS grew by \(peak - before) KiB over \(Self.volume >> 20) MiB of replies")
        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 0)
    }
}
