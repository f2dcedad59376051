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

    /// The writer scans eight bytes at a time: every ASCII byte, at every position of strings
    /// long enough to use the word path and its tail, escapes as a byte-by-byte reference does.
    @Test func escapingAgreesWithAByteByByteReference() {
        func reference(_ text: String) -> String {
            var out = ""
            for scalar in text.unicodeScalars {
                switch scalar.value {
                case 0x22: out += "\\\""
                case 0x5C: out += "\\\\"
                case 0x0A: out += "\\n"
                case 0x0D: out += "\\r"
                case 0x09: out += "\\t"
                case 0..<0x20, 0x7F: out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out
        }
        for length in 1...19 {
            for position in 0..<length {
                for byte in UInt8(0)..<0x80 {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    bytes[position] = byte
                    let text = String(decoding: bytes, as: UTF8.self) + "é"
                    let line = AuditEvent(timestamp: ts, session: "s", kind: .anomaly(.nul, detail: text)).jsonLine
                    #expect(line.hasSuffix("\"detail\":\"" + reference(text) + "\"}"), "byte \(byte) at \(position) of \(length)")
                }
            }
        }
    }
}
