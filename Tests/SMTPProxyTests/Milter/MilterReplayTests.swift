import Foundation
import SMTPCore
import SMTPFilters
import SMTPReplay
import SMTPServices
import Testing

/// `replay --filters` with `milters:`: a session recorded by the proxy (no milters then), with a
/// GTUBE message and a clean one that Postfix both accepted, replayed with rspamd as milter —
/// "what would rspamd have said". The session replays as captured; each message is shown to
/// rspamd at its end, and its answers are `milter` events.
@Suite(.serialized) struct MilterReplayTests {
    @Test func replayShowsEachCapturedMessageToRspamd() async throws {
        let postfix = try DedicatedPostfix.instance("milters")
        let rspamd = try RspamdMilter.shared()
        let directory = NSTemporaryDirectory() + "milter-replay-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pcap = directory + "/traffic.pcap"

        // Last week's traffic: both messages delivered (no milter in front of Postfix then).
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, recordPath: pcap)
        let spam = uniqueToken("replaygtube")
        let clean = uniqueToken("replayclean")
        let port = proxy.port
        let replies = try await onThread { () throws -> [String] in
            let client = try RawSMTPClient(port: port, timeout: 60)
            try client.open()
            var replies: [String] = []
            for (subject, body) in [(spam, ["spam", RealMilterTests.gtube]), (clean, ["hello", ".a dot line"])] {
                try client.send("MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
                replies += try client.readReplies(3)
                try client.send(LargeMessageTests.dotStuff(RealMilterTests.message(subject: subject, body: body)) + Array(".\r\n".utf8))
                replies.append(try client.readReply() ?? "<closed>")
            }
            replies.append(try client.command("QUIT"))
            return replies
        }
        #expect(replies.map { $0.prefix(3) } == ["250", "250", "354", "250", "250", "250", "354", "250", "221"], "\(replies)")
        _ = proxy.waitForSessionEnds(1)
        await proxy.stop()

        // The rule file an operator would use live, with rspamd as milter.
        let rules = directory + "/milters.yaml"
        try MilterProxyEndToEndTests.rules([("rspamd", rspamd.milterPort)]).write(toFile: rules, atomically: true, encoding: .utf8)
        let ruleSet = try RuleSet.load(paths: [rules])
        var options = ReplayOptions(policy: ruleSet)
        options.consultants = ConsultantChain([try #require(MilterConsultant(rules: ruleSet))])
        // Replay waits for each milter answer: on a thread of its own, off the cooperative pool
        // the milter conversations run on.
        let replayOptions = options
        let events = try await onThread { try CaptureReplay(path: pcap, options: replayOptions).events() }
        let json = events.compactMap { try? JSONSerialization.jsonObject(with: Data($0.jsonLine.utf8)) as? [String: Any] }
        for event in json where ["milter", "message"].contains(event["event"] as? String) { print("replayed with rspamd:", event) }

        let eom = json.filter { $0["event"] as? String == "milter" && $0["stage"] as? String == "eom" }
        #expect(eom.count == 2, "\(eom)")
        #expect(eom.first?["verdict"] as? String == "replycode")
        #expect(eom.first?["reply"] as? String == "554 5.7.1 Gtube pattern")
        #expect(eom.last?["verdict"] as? String != "replycode")
        #expect((eom.last?["modifications"] as? [String: Any])?.isEmpty == false, "rspamd adds its headers: \(String(describing: eom.last))")
        // The session replays as captured: both messages got Postfix's 250, and nothing was refused.
        let messages = json.filter { $0["event"] as? String == "message" }
        #expect(messages.map { $0["result"] as? Int } == [250, 250])
        #expect(messages.map { $0["subject"] as? String } == [spam, clean])
        #expect(!json.contains { $0["event"] as? String == "reply" && $0["local"] as? Bool == true })
        #expect(!json.contains { $0["event"] as? String == "anomaly" })
    }
}
