import Foundation
import Testing

/// `settings.greet-pause` and `settings.pregreet: reject` through the built proxy (postscreen's
/// pregreet test, SPEC §10): a client that talks first gets 554 and nothing of it reaches the
/// upstream; a client that waits for the greeting is served as usual.
@Suite(.serialized) struct PregreetTests {
    @Test func aClientTalkingBeforeTheGreetingIsRefusedAndAPoliteOneIsServed() throws {
        let verbs = VerbLog()
        let upstream = try FakeUpstream.answering(as: "pregreet.test", onCommand: { verbs.append($0) })
        defer { upstream.stop() }
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        try directory.write("settings:\n  greet-pause: 1s\n  pregreet: reject\n", to: "pregreet.yaml")
        let (proxy, port) = try ProxyProcess.listening(
            upstream: upstream.port, log: directory.file("audit.jsonl"), ["--filters", directory.file("pregreet.yaml")])
        defer { proxy.kill() }

        // A bot: its EHLO and MAIL go out at once, before any greeting could have arrived.
        let bot = try RawSMTPClient(port: port)
        try bot.send("EHLO spambot.example\r\nMAIL FROM:<x@spam.example>\r\n")
        #expect(try bot.readReply()?.hasPrefix("554 5.5.1") == true)
        #expect(try bot.readReply() == nil)  // closed

        // A polite client waits for the greeting, which comes after the pause.
        let started = Date()
        let polite = try RawSMTPClient(port: port)
        #expect(try polite.readReply()?.hasPrefix("220 pregreet.test") == true)
        #expect(Date().timeIntervalSince(started) >= 1.0)
        try polite.send("EHLO polite.example\r\n")
        #expect(try polite.readReply()?.hasPrefix("250") == true)
        try polite.send("QUIT\r\n")
        _ = try polite.readReply()

        #expect(verbs.all == ["EHLO", "QUIT"])  // only the polite client's commands
        let events = auditEvents(at: directory.file("audit.jsonl"))
        #expect(events.filter { $0["kind"] as? String == "pregreet" }.count == 1)
        #expect(events.contains { $0["event"] as? String == "session-end" && $0["reason"] as? String == "pregreet" })
    }
}

/// The verbs an upstream saw, from its connection threads.
final class VerbLog: @unchecked Sendable {
    private let lock = NSLock()
    private var verbs: [String] = []
    func append(_ verb: String) { lock.withLock { verbs.append(verb) } }
    var all: [String] { lock.withLock { verbs } }
}
