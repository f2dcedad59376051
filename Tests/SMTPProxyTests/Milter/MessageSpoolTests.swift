import Foundation
import NIOCore
import NIOPosix
import SMTPCore
import SMTPFilters
import SMTPServices
import Testing

/// The held message: memory up to 1 MiB, then a 0600 file in the spool directory, never beyond
/// the size limit, removed when done (or at the next start after a crash), read back in ≤ 64 KiB
/// chunks; a 200 MiB message goes through a milter and out with the process's memory flat.
@Suite struct MessageSpoolTests {
    static func fill(_ spool: MessageSpool, octets: Int, line: String = "0123456789 the quick brown fox jumps over the lazy dog\r\n") throws {
        let block = ByteBuffer(string: String(repeating: line, count: 65_536 / line.utf8.count))
        var written = 0
        while written < octets {
            let count = min(block.readableBytes, octets - written)
            try spool.append(block.getSlice(at: 0, length: count)!)
            written += count
        }
    }

    @Test func smallMessagesStayInMemoryLargerOnesGoToA0600File() throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spool = MessageSpool(directory: directory.path)
        try Self.fill(spool, octets: MessageSpool.memoryLimit)
        #expect(spool.filePath == nil)
        try spool.append(ByteBuffer(string: "x"))
        let path = try #require(spool.filePath)
        #expect(path.hasPrefix(directory.path + "/"))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((attributes[.size] as? Int) == MessageSpool.memoryLimit + 1)
        #expect(spool.size == MessageSpool.memoryLimit + 1)
        var chunks = spool.chunks()
        var total = 0
        var last = ByteBuffer()
        while let chunk = try chunks.next() {
            #expect(chunk.readableBytes <= 65_536)
            total += chunk.readableBytes
            last = chunk
        }
        #expect(total == spool.size && String(buffer: last).hasSuffix("x"))
        spool.remove()
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(spool.size == 0)
    }

    @Test func aMessageNeverGrowsBeyondTheLimit() throws {
        let spool = MessageSpool(maximumSize: 100)
        try spool.append(ByteBuffer(string: String(repeating: "a", count: 100)))
        #expect(throws: MessageSpool.Failure.tooLarge(limit: 100)) { try spool.append(ByteBuffer(string: "b")) }
        #expect(spool.size == 100)
    }

    @Test func anUnwritableSpoolDirectoryIsAnError() throws {
        let spool = MessageSpool(directory: "/nonexistent-spool", memoryLimit: 10)
        #expect(throws: MessageSpool.Failure.self) { try spool.append(ByteBuffer(string: String(repeating: "a", count: 11))) }
    }

    @Test func theFileGoesWithTheSpoolAndLeftoversOfDeadProcessesAreRemoved() throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        var path: String?
        do {
            let spool = MessageSpool(directory: directory.path, memoryLimit: 0)
            try spool.append(ByteBuffer(string: "held"))
            path = spool.filePath
            #expect(path.map { FileManager.default.fileExists(atPath: $0) } == true)
        }
        #expect(path.map { FileManager.default.fileExists(atPath: $0) } == false)
        // A crashed proxy's file (its pid no longer runs), a live process's file, and an unrelated file.
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        _ = ExternalProcess.reap(exited)
        let dead = exited.processIdentifier
        try directory.write("left", to: "smtp-inspect-spool-\(dead)-1-abc")
        try directory.write("live", to: "smtp-inspect-spool-\(getpid())-2-abc")
        try directory.write("other", to: "unrelated")
        #expect(MessageSpool.removeLeftovers(in: directory.path) == 1)
        let remaining = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(remaining == ["smtp-inspect-spool-\(getpid())-2-abc", "unrelated"])
    }

    /// A 200 MiB message is spooled, read by a milter in 64 KiB chunks, edited (a header added)
    /// and read out dot-stuffed, while the process's resident memory stays flat.
    @Test func a200MiBMessageGoesThroughWithMemoryFlat() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let group = MultiThreadedEventLoopGroup.singleton  // never shut down: a milter task may finish after a test
        let fake = try await FakeMilter(group: group, endOfMessage: [("h", FakeMilter.strings("X-Scanned", "yes"))], recordsBodies: false)
        let consultant = MilterConsultant(
            milters: [.init(name: "fake", socket: .inet(host: "127.0.0.1", port: fake.port), timeout: .seconds(30))],
            spoolDirectory: directory.path)
        let size = 200 << 20
        let baseline = Self.residentBytes()
        var peak = baseline
        let header = ByteBuffer(string: "Subject: big\r\nFrom: alice@example.test\r\n\r\n")
        let spool = consultant.makeSpool()
        try spool.append(header)
        try Self.fill(spool, octets: size - header.readableBytes, line: ".dot-led line of the body, to be stuffed\r\n")
        peak = max(peak, Self.residentBytes())
        var facts = SessionFacts(
            sessionID: "big", client: Endpoint(host: "127.0.0.1", port: 40_000), server: Endpoint(host: "127.0.0.1", port: 25),
            heloName: "client.example.net", sender: "alice@example.test", recipients: ["bob@example.org"], transaction: 1)
        facts.size = size
        for stage in [ConsultStage.connect, .helo, .mail, .rcpt, .data] {
            var request = ConsultRequest(stage: stage, facts: facts)
            if stage == .mail { request.path = "alice@example.test"; request.argument = "FROM:<alice@example.test>" }
            if stage == .rcpt { request.path = "bob@example.org"; request.argument = "TO:<bob@example.org>" }
            _ = try await consultant.consult(request, at: .init(seconds: 0), on: group.next()).get()
        }
        let outcome = try await consultant.endOfMessage(spool, facts: facts, on: group.next()).get()
        peak = max(peak, Self.residentBytes())
        #expect(outcome.verdict.action == .proceed)
        let bodyPackets = fake.packets.filter { $0.command == "B" }
        #expect(bodyPackets.reduce(0) { $0 + $1.length } == size - header.readableBytes)
        #expect(bodyPackets.allSatisfy { $0.length <= 65_535 })
        var content = outcome.message.content(dotStuffed: true)
        var forwarded = 0
        var firstChunks: [String] = []
        while let chunk = try content.next() {
            if firstChunks.count < 2 { firstChunks.append(String(buffer: chunk)) }
            forwarded += chunk.readableBytes
            if forwarded % (16 << 20) < chunk.readableBytes { peak = max(peak, Self.residentBytes()) }
        }
        let lineLength = ".dot-led line of the body, to be stuffed\r\n".utf8.count
        let lines = (size - header.readableBytes + lineLength - 1) / lineLength
        #expect(forwarded == size + "X-Scanned: yes\r\n".utf8.count + lines)
        #expect(firstChunks.first == "Subject: big\r\nFrom: alice@example.test\r\nX-Scanned: yes\r\n\r\n")
        #expect(firstChunks.last?.hasPrefix("..dot-led line") == true)
        print("200 MiB through a milter: RSS baseline \(baseline >> 20) MiB, peak \(peak >> 20) MiB")
        #expect(peak - baseline < 64 << 20, "RSS grew from \(baseline >> 20) MiB to \(peak >> 20) MiB")
        await consultant.endSession("big").value
        spool.remove()
        await fake.stop()
    }

    static func residentBytes() -> Int {
        guard let status = readProcFile("/proc/self/status"),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }
}
