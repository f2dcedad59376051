import NIOCore
import SMTPCore
import TestSupport
import Testing

/// The consult counterpart of the segmentation property: the same client bytes and the same
/// verdicts, whenever the verdicts arrive between the byte arrivals, give the upstream and the
/// client the same bytes and the log the same events (each kind in the same order; how command
/// and reply events interleave follows the timing, as it does live).
@Suite struct ConsultInterleavingPropertyTests {
    static let script = """
        EHLO client.example\r
        MAIL FROM:<a@example.org>\r
        RCPT TO:<deny@example.net>\r
        RCPT TO:<grey@example.net>\r
        RCPT TO:<slow@example.net>\r
        VRFY someone\r
        DATA\r
        Subject: one\r
        \r
        body\r
        .\r
        MAIL FROM:<b@example.org>\r
        RCPT TO:<c@example.net>\r
        DATA\r
        Subject: two\r
        \r
        .\r
        QUIT\r

        """

    /// The same verdict for the same question, whenever it is asked.
    static func verdict(for request: ConsultRequest) -> Verdict {
        switch (request.stage, request.path ?? "") {
        case (.rcpt, let path) where path.hasPrefix("deny"):
            return Verdict(.reply(SMTPReply(code: 550, "5.7.1 Denied")), rule: "policy", policyAnswer: "REJECT Denied")
        case (.rcpt, let path) where path.hasPrefix("grey"):
            return Verdict(.proceed, prependHeaders: ["X-Grey: yes"], rule: "policy", policyAnswer: "PREPEND X-Grey: yes")
        case (.rcpt, let path) where path.hasPrefix("slow"):
            return Verdict(.delay(.seconds(3)), rule: "tarpit")
        case (.endOfMessage, _):
            return Verdict(.proceed, events: [.anomaly(AnomalyKind(rawValue: "test-note"), detail: "size \(request.facts.size ?? -1)")])
        default:
            return .proceed
        }
    }

    struct Outcome: Equatable {
        var toServer: String
        var toClient: String
        var commands: [CommandRecord]
        var replies: [ReplyRecord]
        var messages: [MessageRecord]
        var others: [AuditEvent.Kind]
    }

    /// Runs the script cut at `cuts`, answering each question after `delays` further steps.
    static func run(seed: UInt64?) -> Outcome {
        var rng = SeededGenerator(seed: seed ?? 0)
        var h = EngineHarness(consultStages: [.helo, .mail, .rcpt, .data, .vrfy, .endOfMessage])
        var upstream = ScriptedUpstream()
        var sent = ""
        var waiting: [(id: ConsultID, verdict: Verdict, steps: Int)] = []
        var draining = false

        func pump() {
            while true {
                // Questions go into the waiting list with a random delay (none in the baseline).
                for (id, request) in h.consults where !waiting.contains(where: { $0.id == id }) {
                    waiting.append((id, verdict(for: request), seed == nil || draining ? 0 : Int.random(in: 0...3, using: &rng)))
                }
                for wake in h.resumes where !waiting.contains(where: { $0.id == wake.id }) {
                    waiting.append((wake.id, .proceed, seed == nil || draining ? 0 : Int.random(in: 0...3, using: &rng)))
                }
                h.resumes.removeAll()
                let forwarded = h.takeToServer()
                sent += forwarded
                let replies = upstream.replies(to: Array(forwarded.utf8))
                if !replies.isEmpty {
                    h.server(replies)
                    continue
                }
                guard let due = waiting.firstIndex(where: { $0.steps == 0 }) else { return }
                let answer = waiting.remove(at: due)
                h.decide(answer.id, answer.verdict)
            }
        }

        h.server("220 mx.example ESMTP\r\n")
        pump()
        let bytes = Array(script.utf8)
        var start = 0
        while start < bytes.count {
            let length = seed == nil ? bytes.count : Int.random(in: 1...24, using: &rng)
            let end = min(bytes.count, start + length)
            h.client(Array(bytes[start..<end]))
            start = end
            for index in waiting.indices { waiting[index].steps = max(0, waiting[index].steps - 1) }
            pump()
        }
        // The client is done; every question still open gets its answer.
        draining = true
        for index in waiting.indices { waiting[index].steps = 0 }
        pump()
        h.finish()
        return Outcome(
            toServer: sent, toClient: h.takeToClient(), commands: h.commandEvents, replies: h.replyEvents, messages: h.messageEvents,
            others: h.events.map(\.kind).filter {
                switch $0 {
                case .command, .reply, .message: false
                default: true
                }
            })
    }

    @Test func theBaselineIsWhatAnOperatorExpects() {
        let outcome = Self.run(seed: nil)
        #expect(outcome.toServer.contains("DATA\r\nX-Grey: yes\r\nSubject: one\r\n"))
        #expect(!outcome.toServer.contains("deny@"))
        #expect(outcome.toServer.contains("RCPT TO:<slow@example.net>\r\n"))
        #expect(outcome.toClient.contains("550 5.7.1 Denied\r\n"))
        #expect(outcome.messages.map(\.result) == [250, 250])
        #expect(outcome.commands.first { $0.arg.contains("deny") }?.policy == "REJECT Denied")
        #expect(outcome.commands.first { $0.arg.contains("slow") }?.rule == "tarpit")
    }

    @Test(arguments: 1...150)
    func anyTimingOfVerdictsGivesTheSameOutcome(seed: Int) {
        let baseline = Self.run(seed: nil)
        let outcome = Self.run(seed: UInt64(seed))
        #expect(outcome.toServer == baseline.toServer)
        #expect(outcome.toClient == baseline.toClient)
        #expect(outcome.commands == baseline.commands)
        #expect(outcome.replies == baseline.replies)
        #expect(outcome.messages == baseline.messages)
        #expect(outcome.others == baseline.others)
    }
}
