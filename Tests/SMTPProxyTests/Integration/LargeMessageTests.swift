import Foundation
import Testing

/// SPEC §4 DATA: a 20 MiB message streams through the proxy and arrives byte for byte, its
/// dot-stuffing preserved (Postfix removes it, so the delivered text equals the original).
@Suite(.serialized) struct LargeMessageTests {
    let postfix: PostfixInstance

    init() throws {
        postfix = try DedicatedPostfix.instance("large-message")
    }

    /// A deterministic pseudo-random generator (SplitMix64): the same message on every run.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// The message (CRLF line ends, unstuffed) and its body lines: lengths from 0 to 998 octets
    /// of printable ASCII, about one line in eight starting with `.`, some lines just `.`.
    static func makeMessage(token: String, bodyOctets: Int) -> [UInt8] {
        var generator = SplitMix64(state: 0x5EED_5EED)
        var message = Array(testMessage(token: token, body: "").utf8)
        let printable = Array((0x20...0x7E).map { UInt8($0) })
        let bodyStart = message.count
        message.reserveCapacity(bodyStart + bodyOctets + 1100)
        while message.count - bodyStart < bodyOctets {
            let kind = generator.next() % 16
            let length: Int
            switch kind {
            case 0: length = 0
            case 1: length = Int(generator.next() % 5) + 990  // near the 998 limit
            default: length = Int(generator.next() % 200)
            }
            var line = (0..<length).map { _ in printable[Int(generator.next() % UInt64(printable.count))] }
            if kind == 2 || kind == 3, !line.isEmpty { line[0] = UInt8(ascii: ".") }
            if kind == 4 { line = [UInt8(ascii: ".")] }
            message += line
            message += [0x0D, 0x0A]
        }
        message += Array("end of \(token)\r\n".utf8)
        return message
    }

    /// RFC 5321 §4.5.2 transparency: a line starting with `.` gets another one.
    static func dotStuff(_ message: [UInt8]) -> [UInt8] {
        var stuffed: [UInt8] = []
        stuffed.reserveCapacity(message.count + message.count / 50)
        var lineStart = true
        for byte in message {
            if lineStart && byte == UInt8(ascii: ".") { stuffed.append(byte) }
            stuffed.append(byte)
            lineStart = byte == 0x0A
        }
        return stuffed
    }

    @Test func twentyMebibytesArriveByteExact() async throws {
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, filterPaths: [ProxyHarness.shippedFilters])
        defer { Task { await proxy.stop() } }
        let mark = postfix.logMark
        let token = uniqueToken("large")
        let message = Self.makeMessage(token: token, bodyOctets: 20 * 1024 * 1024)
        let stuffed = Self.dotStuff(message)
        #expect(stuffed.count > message.count, "the message has lines to stuff")

        let client = try RawSMTPClient(port: proxy.port, timeout: 120)
        try client.open()
        try client.send("MAIL FROM:<alice@example.net> SIZE=\(stuffed.count)\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
        #expect(try client.readReplies(3).map { $0.prefix(3) } == ["250", "250", "354"])
        try client.send(stuffed + Array(".\r\n".utf8))
        let queued = try #require(try client.readReply())
        #expect(queued.hasPrefix("250 "), "\(queued)")
        #expect(try client.command("QUIT").hasPrefix("221 "))

        let queueID = try #require(queued.split(separator: " ").last).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(postfix.waitForLogLine(since: mark, containing: ["\(queueID): to=<bob@example.org>", "status=sent"], timeout: 120) != nil)
        let files = postfix.deliveredFiles(containing: token)
        try #require(files.count == 1)
        let delivered = files[0].bytes
        defer { try? FileManager.default.removeItem(atPath: "\(postfix.maildir)/\(files[0].name)") }

        // The Maildir holds LF line ends; Postfix prepended Return-Path, X-Original-To,
        // Delivered-To and its Received header, and then the message follows, every octet as sent.
        let expected = Data(maildirForm(String(decoding: message, as: UTF8.self)).utf8)
        #expect(delivered.count >= expected.count)
        let tail = delivered.suffix(expected.count)
        if tail != expected {
            let offset = zip(tail, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(tail.count, expected.count)
            Issue.record("delivered message differs from the sent one at octet \(offset) of \(expected.count)")
        }
        let prepended = String(decoding: delivered.prefix(delivered.count - expected.count), as: UTF8.self)
        #expect(
            prepended.hasPrefix("Return-Path: <alice@example.net>\nX-Original-To: bob@example.org\nDelivered-To: bob@example.org\nReceived: from "),
            "\(prepended)")
        let added = ["Return-Path:", "X-Original-To:", "Delivered-To:", "Received:", "\t"]
        #expect(prepended.split(separator: "\n").allSatisfy { line in added.contains { line.hasPrefix($0) } }, "\(prepended)")

        let events = proxy.waitForSessionEnds(1)
        let record = try #require(events.first { $0["event"] as? String == "message" })
        #expect(record["size"] as? Int == stuffed.count)
        #expect(record["subject"] as? String == token)
        #expect(record["result"] as? Int == 250)
        #expect(proxy.events("anomaly").isEmpty, "\(proxy.events("anomaly"))")
    }
}
