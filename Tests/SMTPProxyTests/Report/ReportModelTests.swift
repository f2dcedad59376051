import Foundation
import SMTPCore
@testable import SMTPReport
import Testing

/// The report's model without a browser: times, grouping, the aggregates.
struct ReportModelTests {
    @Test func readsRFC3339Times() {
        #expect(RFC3339.microseconds("1970-01-01T00:00:01.5Z") == 1_500_000)
        #expect(RFC3339.microseconds("2000-01-01T00:00:00Z") == 946_684_800_000_000)
        #expect(RFC3339.microseconds("2026-11-29T09:25:57.512423Z") == RFC3339.microseconds("2026-11-29T10:25:57.512423+01:00"))
        #expect(RFC3339.microseconds("2026-11-29T09:25:57.512423123Z")! % 1_000_000 == 512_423)
        #expect(RFC3339.microseconds("2026-13-29T09:25:57Z") == nil)
        #expect(RFC3339.microseconds("yesterday") == nil)
        #expect(RFC3339.display(946_684_800_000_000 + 3_723_000_000) == "2000-01-01 01:02:03")
        #expect(RFC3339.display(RFC3339.microseconds("2024-02-29T23:59:59Z")!) == "2024-02-29 23:59:59")
    }

    @Test func tellsLogsFromCapturesByContent() {
        #expect(InputKind(prefix: [0xD4, 0xC3, 0xB2, 0xA1, 2, 0]) == .capture)
        #expect(InputKind(prefix: [0x0A, 0x0D, 0x0D, 0x0A, 0, 0]) == .capture)
        #expect(InputKind(prefix: Array("\n  {\"ts\":".utf8)) == .auditLog)
        #expect(InputKind(prefix: Array("hello".utf8)) == nil)
        #expect(InputKind(prefix: []) == .auditLog)
        #expect(InputKind(prefix: Array(" \n\r\n".utf8)) == .auditLog)
    }

    @Test func groupsInterleavedSessionsAndCountsWhatTheyDid() throws {
        let lines = [
            #"{"ts":"2026-11-29T10:00:01Z","session":"b","event":"session-start","client":"[2001:db8::1]:4000","server":"[2001:db8::25]:25","source":"live"}"#,
            #"{"ts":"2026-11-29T10:00:00Z","session":"a","event":"session-start","client":"192.0.2.1:5000","server":"10.0.0.1:25","source":"live"}"#,
            #"{"ts":"2026-11-29T10:00:02Z","session":"a","event":"command","verb":"MAIL","arg":"FROM:<alice@example.net> SIZE=10","action":"forward","rule":null,"forwarded":null}"#,
            #"{"ts":"2026-11-29T10:00:02Z","session":"b","event":"command","verb":"VRFY","arg":"root","action":"reject","rule":"no-vrfy","forwarded":null}"#,
            #"{"ts":"2026-11-29T10:00:02Z","session":"b","event":"reply","code":502,"text":"no","for":"VRFY","local":true}"#,
            #"{"ts":"2026-11-29T10:00:03Z","session":"a","event":"reply","code":250,"text":"x","for":"EHLO","local":false,"stripped":[{"keyword":"CHUNKING","rule":"no-bdat","action":"strip"}]}"#,
            #"{"ts":"2026-11-29T10:00:04Z","session":"a","event":"anomaly","kind":"bare-lf","detail":"d"}"#,
            #"{"ts":"2026-11-29T10:00:05Z","session":"a","event":"message","mail_from":"alice@example.net","rcpt_to":["bob@example.org","carol@example.org"],"size":120,"result":250,"message_id":null,"subject":null}"#,
            #"{"ts":"2026-11-29T10:00:06Z","session":"a","event":"session-end","reason":"quit","bytes_from_client":300,"bytes_from_server":200,"commands":3,"messages":1,"tls":"none"}"#,
        ]
        let decoder = JSONDecoder()
        let events = try lines.map { try decoder.decode(LoggedEvent.self, from: Data($0.utf8)) }
        let sessions = SessionGrouping.sessions(from: events)
        #expect(sessions.map(\.id) == ["a", "b"])
        let a = sessions[0], b = sessions[1]
        #expect(a.senders == ["alice@example.net"])
        #expect(a.recipients == ["bob@example.org", "carol@example.org"])
        #expect(a.rules == ["no-bdat"])
        #expect(a.anomalies == ["bare-lf"])
        #expect(a.replyClasses == [2])
        #expect(a.endReason == "quit" && a.bytesFromClient == 300 && a.messages == 1)
        #expect(a.end - a.start == 6_000_000)
        #expect(b.clientHost == "2001:db8::1" && b.rules == ["no-vrfy"] && b.endReason == nil)

        let overview = ReportOverview(sessions: sessions)
        #expect(overview.sessions == 2 && overview.messages == 1 && overview.messageBytes == 120)
        #expect(overview.senders["alice@example.net"] == 1)
        #expect(overview.rules["no-vrfy"] == 1 && overview.rules["no-bdat"] == 1)
        #expect(overview.verbActions["VRFY"]?["reject"] == 1)
        #expect(overview.localReplies["5xx"] == 1 && overview.serverReplies["2xx"] == 1)
        #expect(overview.anomalies["bare-lf"] == 1)
        #expect(overview.clients.top(1).first?.count == 1)

        var encoder = ReportDataEncoder(stepLimit: 2)
        let json = encoder.encode(sessions, overview: overview)
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let strings = parsed?["strings"] as? [String] ?? []
        let rows = parsed?["sessions"] as? [[Any]] ?? []
        #expect(rows.count == 2)
        let steps = rows.first?.last as? [[Any]] ?? []
        // Two steps, then the marker for the three left out.
        #expect(steps.count == 3 && steps.last?.first as? Int == 5 && steps.last?.last as? Int == 3)
        #expect(strings.contains("CHUNKING") && strings.contains("alice@example.net"))
    }

    @Test func envelopeAddresses() {
        #expect(EnvelopeAddress.parse("FROM:<alice@example.net> SIZE=10") == "alice@example.net")
        #expect(EnvelopeAddress.parse("FROM:<>") == "<>")
        #expect(EnvelopeAddress.parse("TO: bob@example.org") == "bob@example.org")
        #expect(EnvelopeAddress.parse("nonsense") == nil)
    }

    @Test func displayTextShowsControlCharactersAndCutsLongValues() {
        #expect(DisplayText.clean("a\u{0}b\r\n") == "a\u{2400}b\u{240D}\u{240A}")
        #expect(DisplayText.clean(String(repeating: "x", count: 300), limit: 10) == "xxxxxxxxxx…")
        #expect(DisplayText.html("<b>&\"") == "&lt;b&gt;&amp;&quot;")
        var quoted = ""
        JSONLineWriter.appendQuoted("</script><!--&\u{2028}", to: &quoted, htmlSafe: true)
        #expect(quoted == #""\u003c/script\u003e\u003c!--\u0026\u2028""#)
    }
}
