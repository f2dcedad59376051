import NIOCore
import SMTPCore
import Testing

@Suite struct AuditEventJSONTests {
    let ts = SMTPTimestamp(seconds: 0)

    @Test func commandEventHasEveryField() {
        let event = AuditEvent(
            timestamp: ts, session: "s1",
            kind: .command(CommandRecord(verb: "VRFY", arg: "root \"x\"\n", action: "reject", rule: "no-vrfy")))
        #expect(event.jsonLine == #"{"ts":"1970-01-01T00:00:00.000000Z","session":"s1","event":"command","verb":"VRFY","arg":"root \"x\"\n","action":"reject","rule":"no-vrfy","forwarded":null}"#)
    }

    @Test func controlCharactersAreEscaped() {
        let event = AuditEvent(timestamp: ts, session: "s", kind: .anomaly(.nul, detail: "a\u{0}b\u{7f}"))
        #expect(event.jsonLine.contains(#""detail":"a\u0000b\u007f""#))
    }

    @Test func messageAndEndEvents() {
        let message = AuditEvent(
            timestamp: ts, session: "s",
            kind: .message(MessageRecord(mailFrom: "a@b", rcptTo: ["c@d", "e@f"], size: 10, result: 250, messageID: nil, subject: "Hi")))
        #expect(message.jsonLine.hasSuffix(#""event":"message","mail_from":"a@b","rcpt_to":["c@d","e@f"],"size":10,"result":250,"message_id":null,"subject":"Hi"}"#))
        let end = AuditEvent(
            timestamp: ts, session: "s",
            kind: .sessionEnd(SessionSummary(reason: "quit", bytesFromClient: 1, bytesFromServer: 2, commands: 3, messages: 4, tls: "none")))
        #expect(end.jsonLine.hasSuffix(#""reason":"quit","bytes_from_client":1,"bytes_from_server":2,"commands":3,"messages":4,"tls":"none"}"#))
    }
}
