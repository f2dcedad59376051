import Foundation
import SMTPCore
import SMTPReplay
import Testing

@Suite("SessionTableRenderer")
struct SessionTableRendererTests {
    static let t = SMTPTimestamp(seconds: 1_764_403_200)

    func event(_ kind: AuditEvent.Kind, session: String = "x.pcap#3") -> AuditEvent {
        AuditEvent(timestamp: Self.t, session: session, kind: kind)
    }

    @Test func rendersOneBlockWhenTheSessionEnds() {
        var renderer = SessionTableRenderer()
        let events: [AuditEvent] = [
            event(.sessionStart(client: Endpoint(host: "192.0.2.10", port: 40000), server: Endpoint(host: "198.51.100.25", port: 25), source: "caps/x.pcap#3")),
            event(.command(CommandRecord(verb: "EHLO", arg: "client", action: "forward"))),
            event(.reply(ReplyRecord(code: 220, text: "mx ESMTP", forVerb: "greeting", local: false))),
            event(.reply(ReplyRecord(code: 250, text: "mx", forVerb: "EHLO", local: false, stripped: [.init(keyword: "XEXCH50", rule: "hide")]))),
            event(.command(CommandRecord(verb: "VRFY", arg: "root", action: "reject", rule: "no-vrfy"))),
            event(.reply(ReplyRecord(code: 502, text: "5.5.1 disabled", forVerb: "VRFY", local: true))),
            event(.command(CommandRecord(verb: "DATA", arg: "", action: "forward"))),
            event(.reply(ReplyRecord(code: 354, text: "go", forVerb: "DATA", local: false))),
            event(.command(CommandRecord(verb: "QUIT", arg: "", action: "forward"))),
            event(.anomaly(.bareLF, detail: "bare <LF> in DATA")),
            event(.message(MessageRecord(mailFrom: "a@b", rcptTo: ["c@d"], size: 12, result: 250, messageID: nil, subject: "Hi"))),
            event(.reply(ReplyRecord(code: 250, text: "queued", forVerb: ".", local: false))),
            event(.reply(ReplyRecord(code: 221, text: "bye", forVerb: "QUIT", local: false))),
        ]
        for item in events { #expect(renderer.consume(item) == nil) }
        // Another session's events in between change nothing.
        #expect(renderer.consume(event(.command(CommandRecord(verb: "NOOP", arg: "", action: "forward")), session: "x.pcap#4")) == nil)
        let block = renderer.consume(event(.sessionEnd(SessionSummary(reason: "quit", bytesFromClient: 80, bytesFromServer: 90, commands: 4, messages: 1, tls: "none"))))
        let lines = block?.split(separator: "\n", omittingEmptySubsequences: false).map { String($0).replacingOccurrences(of: " +$", with: "", options: .regularExpression) }
        #expect(lines == [
            "── x.pcap#3  192.0.2.10:40000 → 198.51.100.25:25  2025-11-29T08:00:00.000000Z ──",
            "  COMMAND                                  ACTION         REPLY",
            "  (greeting)                                              220 mx ESMTP",
            "  EHLO client                              forward        250 mx",
            "    stripped XEXCH50 (hide)",
            "  VRFY root                                reject [no-vrfy] 502 5.5.1 disabled (proxy)",
            "  DATA                                     forward        354 go",
            "  (end of data)                                           250 queued",
            "  QUIT                                     forward        221 bye",
            "  ! bare-lf  bare <LF> in DATA",
            "  message  <a@b> → <c@d>  12 octets  result 250  subject \"Hi\"",
            "  rules fired: hide ×1, no-vrfy ×1",
            "  anomalies: 1",
            "  result: quit; 4 commands, 1 message; 80 octets from the client, 90 from the server; TLS none",
            "",
            "",
        ])
        #expect(renderer.finishAll().count == 1)
    }
}
