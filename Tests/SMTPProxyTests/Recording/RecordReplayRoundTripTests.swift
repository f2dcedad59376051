import Foundation
import SMTPCore
import SMTPFilters
import SMTPReplay
import Testing

/// `proxy --record` then `replay` of that file gives the same commands and replies, with the same
/// rule verdicts, as the live audit log; tshark reads the recording as SMTP; AUTH secrets are not
/// in it.
@Suite(.serialized) struct RecordReplayRoundTripTests {
    /// The comparable part of an event: kind, verb, action, rule, reply code, local.
    static func signature(_ event: [String: Any]) -> String? {
        switch event["event"] as? String {
        case "command":
            return "C \(event["verb"] ?? "") \(event["arg"] ?? "") \(event["action"] ?? "") \(event["rule"] as? String ?? "-")"
        case "reply":
            return "R \(event["code"] ?? "") \(event["for"] as? String ?? "-") \(event["local"] ?? "")"
        case "message":
            return "M \(event["mail_from"] ?? "") \(event["rcpt_to"] ?? "") \(event["result"] ?? "")"
        default:
            return nil
        }
    }

    @Test func recordingReplaysToTheLiveLog() async throws {
        let postfix = PostfixInstance.shared
        let directory = NSTemporaryDirectory() + "record-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pcap = directory + "/live.pcap"
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, filterPaths: [ProxyHarness.shippedFilters], recordPath: pcap)

        let token = "rec-" + UUID().uuidString
        let swaks = try ExternalProcess.run(
            "swaks", ["--server", "127.0.0.1:\(proxy.port)", "--from", "alice@example.net", "--to", "bob@example.org",
                "--header", "Subject: \(token)"])
        #expect(swaks.status == 0, "\(swaks.output)")
        let client = try RawSMTPClient(port: proxy.port)
        _ = try client.readReply()
        try client.send("EHLO rec.test\r\nVRFY root\r\nAUTH PLAIN c2VjcmV0LXBhc3N3b3Jk\r\nNOOP\r\nQUIT\r\n")
        _ = try client.readReplies(5)
        let live = proxy.waitForSessionEnds(2)
        await proxy.stop()

        let policy = try RuleSet.load(paths: [ProxyHarness.shippedFilters])
        let replayed = try CaptureReplay(path: pcap, options: ReplayOptions(policy: policy)).events()
        let liveSignatures = live.compactMap(Self.signature)
        let replayedSignatures = replayed.compactMap { event -> String? in
            let json = try? JSONSerialization.jsonObject(with: Data(event.jsonLine.utf8)) as? [String: Any]
            return json.flatMap(Self.signature)
        }
        #expect(replayedSignatures == liveSignatures)
        #expect(liveSignatures.contains { $0.hasPrefix("C VRFY root reject") })

        let bytes = try Data(contentsOf: URL(fileURLWithPath: pcap))
        #expect(bytes.range(of: Data("c2VjcmV0LXBhc3N3b3Jk".utf8)) == nil, "the AUTH secret is in the recording")
        #expect(bytes.range(of: Data("cmVkYWN0ZWQ=".utf8)) != nil)

        // The upstream runs on a random port: tell tshark it is SMTP.
        let tshark = try ExternalProcess.run(
            "tshark", ["-r", pcap, "-d", "tcp.port==\(postfix.port),smtp", "-Y", "smtp.req.command", "-T", "fields", "-e", "smtp.req.command"])
        #expect(tshark.status == 0, "\(tshark.error)")
        let verbs = tshark.output.split(separator: "\n").map(String.init)
        #expect(verbs.contains("EHLO") && verbs.contains("MAIL") && verbs.contains("QUIT"), "tshark saw \(verbs)")
    }
}
