import Foundation
import Testing

/// `smtp-inspect replay --filters` with a policy rule asks the policy server for the captured
/// session, as the live proxy would: the server's answer decides the replayed command.
@Suite struct PolicyReplayTests {
    @Test(arguments: [false, true])
    func replayAsksThePolicyServer(dryRun: Bool) async throws {
        let server = try FakePolicyServer(.answer { attributes in
            attributes.first { $0.0 == "protocol_state" }?.1 == "RCPT" ? "REJECT not from this capture" : "DUNNO"
        })
        defer { server.stop() }
        let directory = NSTemporaryDirectory() + "policy-replay-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
            rules:
              - {name: replayed-policy, command: RCPT, action: policy, service: "\(server.service)", on-error: tempfail}
            """.write(toFile: directory + "/policy.yaml", atomically: true, encoding: .utf8)
        let capture = ProxyHarness.repositoryRoot + "/captures/swaks-plain.pcap"
        let result = try await onThread {
            try ProxyProcess.runToExit(["replay", capture, "--filters", directory + "/policy.yaml", "--format", "json"] + (dryRun ? ["--dry-run"] : []))
        }
        #expect(result.status == 0, "\(result.error)")
        let events = result.output.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        let rcpt = try #require(events.first { $0["event"] as? String == "command" && $0["verb"] as? String == "RCPT" })
        #expect(rcpt["rule"] as? String == "replayed-policy", "\(rcpt)")
        #expect(rcpt["policy"] as? String == "REJECT not from this capture", "\(rcpt)")
        if dryRun {
            // What the server answered is logged; the command is replayed as forwarded.
            #expect(rcpt["action"] as? String == "would-reject", "\(rcpt)")
            #expect(!events.contains { $0["event"] as? String == "reply" && $0["local"] as? Bool == true })
        } else {
            #expect(rcpt["action"] as? String == "reject", "\(rcpt)")
            #expect(events.contains { $0["event"] as? String == "reply" && $0["code"] as? Int == 554 && $0["local"] as? Bool == true })
        }
        let request = try #require(server.requests.first)
        #expect(request.first { $0.0 == "protocol_state" }?.1 == "RCPT")
        #expect(request.first { $0.0 == "helo_name" }?.1.isEmpty == false)
    }
}
