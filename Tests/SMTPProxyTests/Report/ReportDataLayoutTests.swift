import Foundation
import SMTPCore
@testable import SMTPReport
import Testing

/// The report's script and its data, from both sides: the embedded `.js` files are valid
/// JavaScript (`node --check`), and the data `ReportDataEncoder` writes reads back through the
/// script's own reader (`ReportData.decode` in `Resources/report.js`, where the layout is defined)
/// to exactly the values of the sessions it was made from.
struct ReportDataLayoutTests {
    static let resources = ProxyHarness.repositoryRoot + "/Sources/SMTPReport/Resources/"
    static let script = resources + "report.js"

    @Test(arguments: ["report.js", "report-errors.js"])
    func scriptPassesNodeCheck(_ name: String) throws {
        let run = try ExternalProcess.run("node", ["--check", Self.resources + name])
        #expect(run.status == 0, "node --check \(name): \(run.error)")
    }

    /// What the binary embeds is the file in the repository, byte for byte.
    @Test func theEmbeddedFilesAreTheResources() throws {
        #expect(ReportScript.main == (try String(contentsOfFile: Self.script, encoding: .utf8)))
        #expect(ReportScript.errorCatcher == (try String(contentsOfFile: Self.resources + "report-errors.js", encoding: .utf8)))
        #expect(ReportStyle.css == (try String(contentsOfFile: Self.resources + "report.css", encoding: .utf8)))
    }

    @Test func encodedSessionsReadBackThroughTheScriptsReader() throws {
        let sessions = try Self.sampleSessions()
        var encoder = ReportDataEncoder(stepLimit: 6)
        let data = encoder.encode(sessions, overview: ReportOverview(sessions: sessions))
        let expected = Self.expected(sessions, stepLimit: 6)
        let result = try Self.readInNode(data: data, expected: expected)
        #expect(result.status == 0, "node: \(result.output) \(result.error)")
        #expect(result.output.contains("decoded 2 sessions, 11 steps"), "\(result.output)")
    }

    /// Ways encoded data can stray from the layout, and what the reader then says.
    enum Breakage: CaseIterable, Sendable {
        case sessionLosesAField, unknownStepKind, stringIndexPastTheTable, flagOutOfRange

        var message: String {
            switch self {
            case .sessionLosesAField: "sessions[0]: 17 fields, got 16"
            case .unknownStepKind: "sessions[0].steps[0]: a step kind, got 9"
            case .stringIndexPastTheTable: "anomalies[1]: a string index below"
            case .flagOutOfRange: "sessions[0].steps[0].local: 0 or 1, got 2"
            }
        }

        func apply(to data: inout [String: Any]) {
            var sessions = data["sessions"] as! [[Any]]
            var steps = sessions[0][16] as! [[Any]]
            switch self {
            case .sessionLosesAField: sessions[0].removeFirst()
            case .unknownStepKind: steps[0][0] = 9
            case .stringIndexPastTheTable: data["anomalies"] = (data["anomalies"] as! [Int]) + [99_999]
            case .flagOutOfRange: steps[0][5] = 2
            }
            if self != .sessionLosesAField { sessions[0][16] = steps }
            data["sessions"] = sessions
        }
    }

    /// The reader is strict: data that strays from the layout is refused, naming the field.
    @Test(arguments: Breakage.allCases)
    func readerRefusesDataOffTheLayout(_ breakage: Breakage) throws {
        let sessions = try Self.sampleSessions()
        var encoder = ReportDataEncoder(stepLimit: 6)
        let data = encoder.encode(sessions, overview: ReportOverview(sessions: sessions))
        var parsed = try #require(try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any])
        breakage.apply(to: &parsed)
        let broken = String(decoding: try JSONSerialization.data(withJSONObject: parsed), as: UTF8.self)
        let result = try Self.readInNode(data: broken, expected: Self.expected(sessions, stepLimit: 6))
        #expect(result.status != 0)
        #expect(result.error.contains("report data: " + breakage.message), "\(result.error)")
    }

    // MARK: - Sample and expectation

    /// Two sessions with every step kind, null and non-null optional fields, and a session cut by
    /// the step limit.
    static func sampleSessions() throws -> [ReportSession] {
        let lines = [
            #"{"ts":"2026-11-29T10:00:00Z","session":"a","event":"session-start","client":"192.0.2.1:5000","server":"10.0.0.1:25","source":"live"}"#,
            #"{"ts":"2026-11-29T10:00:00.5Z","session":"a","event":"reply","code":250,"text":"mx ESMTP","for":"EHLO","local":false,"rules":["log-ehlo"],"stripped":[{"keyword":"CHUNKING","rule":"no-bdat","action":"strip"},{"keyword":"X-EXCH50"}]}"#,
            #"{"ts":"2026-11-29T10:00:01Z","session":"a","event":"command","verb":"MAIL","arg":"FROM:<old@legacy.example>","action":"rewrite","rule":"legacy","forwarded":"MAIL FROM:<old@example.org>"}"#,
            #"{"ts":"2026-11-29T10:00:01.25Z","session":"a","event":"command","verb":"RCPT","arg":"TO:<bob@example.org>","action":"forward","rule":null,"forwarded":null}"#,
            #"{"ts":"2026-11-29T10:00:02Z","session":"a","event":"anomaly","kind":"bare-lf","detail":"in DATA"}"#,
            #"{"ts":"2026-11-29T10:00:03Z","session":"a","event":"message","mail_from":"old@example.org","rcpt_to":["bob@example.org","carol@example.org"],"size":120,"result":250,"message_id":null,"subject":"Hello"}"#,
            #"{"ts":"2026-11-29T10:00:04Z","session":"a","event":"reply","code":421,"text":"bye","local":true}"#,
            #"{"ts":"2026-11-29T10:00:05Z","session":"a","event":"session-end","reason":"quit","bytes_from_client":300,"bytes_from_server":200,"commands":2,"messages":1}"#,
            #"{"ts":"2026-11-29T10:00:00Z","session":"b","event":"session-start","client":"[2001:db8::1]:4000","server":"[2001:db8::25]:25","source":"x.pcap#0"}"#,
            #"{"ts":"2026-11-29T10:00:01Z","session":"b","event":"message","mail_from":"","rcpt_to":[],"size":0,"result":null,"subject":null}"#,
            #"{"ts":"2026-11-29T10:00:02Z","session":"b","event":"command","verb":"VRFY","arg":"root","action":"reject","rule":"no-vrfy","forwarded":null}"#,
            #"{"ts":"2026-11-29T10:00:03Z","session":"b","event":"reply","code":502,"text":"no","for":"VRFY","local":true}"#,
            #"{"ts":"2026-11-29T10:00:04Z","session":"b","event":"session-end","reason":"client-closed","bytes_from_client":10,"bytes_from_server":20,"tls":"terminated"}"#,
        ]
        let sessions = SessionGrouping.sessions(from: try lines.map { try JSONDecoder().decode(LoggedEvent.self, from: Data($0.utf8)) })
        #expect(sessions.map(\.events.count) == [7, 4])
        return sessions
    }

    /// The sessions as named values, read from the model (not from the encoder): what the
    /// script's reader must make of the encoded data.
    static func expected(_ sessions: [ReportSession], stepLimit: Int) -> [String: Any] {
        func optional(_ value: (some Any)?) -> Any { value.map { $0 as Any } ?? NSNull() }
        let overview = ReportOverview(sessions: sessions)
        return [
            "rules": overview.rules.top(Int.max).map(\.key),
            "anomalies": overview.anomalies.top(Int.max).map(\.key),
            "sessions": sessions.map { session -> [String: Any] in
                var steps: [[String: Any]] = []
                for event in session.events {
                    let time = RFC3339.microseconds(event.ts)! - session.start
                    if steps.count == stepLimit {
                        steps.append(["type": "omitted", "time": time, "count": session.events.count - stepLimit])
                        break
                    }
                    switch event.event {
                    case "command":
                        steps.append([
                            "type": "command", "time": time, "verb": event.verb!, "arg": event.arg!, "action": event.action!,
                            "rule": optional(event.rule), "forwarded": optional(event.forwarded),
                        ])
                    case "reply":
                        steps.append([
                            "type": "reply", "time": time, "code": event.code!, "text": event.text!, "for": optional(event.forVerb),
                            "local": event.local!, "rules": event.rules ?? [],
                            "stripped": (event.stripped ?? []).map {
                                ["keyword": $0.keyword, "rule": optional($0.rule), "action": optional($0.action)] as [String: Any]
                            },
                        ])
                    case "message":
                        steps.append([
                            "type": "message", "time": time, "from": event.mailFrom!, "to": event.rcptTo!, "size": event.size!,
                            "result": optional(event.result), "subject": optional(event.subject),
                        ])
                    case "anomaly":
                        steps.append(["type": "anomaly", "time": time, "kind": event.kind!, "detail": event.detail!])
                    case "session-end":
                        steps.append([
                            "type": "end", "time": time, "reason": event.reason!, "tls": optional(event.tls),
                            "bytesFromClient": event.bytesFromClient!, "bytesFromServer": event.bytesFromServer!,
                        ])
                    default:
                        Issue.record("sample event \(event.event) has no step")
                    }
                }
                return [
                    "id": session.id, "client": session.client, "server": session.server, "source": session.source,
                    "start": session.start, "duration": session.end - session.start, "endReason": optional(session.endReason),
                    "tls": optional(session.tls), "messages": session.messages, "bytesFromClient": session.bytesFromClient,
                    "bytesFromServer": session.bytesFromServer, "senders": session.senders.sorted(),
                    "recipients": session.recipients.sorted(), "rules": session.rules.sorted(),
                    "anomalies": session.anomalies.sorted(),
                    "replyClasses": session.replyClasses.reduce(0) { $0 | (1 << $1) }, "steps": steps,
                ]
            },
        ]
    }

    /// Loads the real `report.js` in node (its `ReportData` export), decodes `data` with it and
    /// compares the result with `expected` (assert.deepStrictEqual).
    static func readInNode(data: String, expected: [String: Any]) throws -> ExternalProcess.Result {
        let workspace = try ReportWorkspace()
        try data.write(toFile: workspace.file("data.json"), atomically: true, encoding: .utf8)
        try JSONSerialization.data(withJSONObject: expected).write(to: URL(fileURLWithPath: workspace.file("expected.json")))
        let check = """
            const assert = require("assert"), fs = require("fs");
            const ReportData = require(process.argv[2]);
            const got = ReportData.decode(JSON.parse(fs.readFileSync(process.argv[3], "utf8")));
            assert.deepStrictEqual(got, JSON.parse(fs.readFileSync(process.argv[4], "utf8")));
            const steps = got.sessions.reduce((n, s) => n + s.steps.length, 0);
            console.log("decoded " + got.sessions.length + " sessions, " + steps + " steps");
            """
        try check.write(toFile: workspace.file("check.js"), atomically: true, encoding: .utf8)
        return try ExternalProcess.run("node", [workspace.file("check.js"), script, workspace.file("data.json"), workspace.file("expected.json")])
    }
}
