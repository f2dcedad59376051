import Foundation
import Testing

/// SIGUSR1 under load, sent by the real logrotate: 20 clients send mail while the audit log and
/// the recording are rotated twice. Every delivered message must have exactly one `message`
/// event across the three audit files, and the three recordings must open in tshark.
@Suite("Log rotation", .serialized)
struct LogRotationTests {
    static let clients = 20
    static let messagesPerClient = 12

    @Test("logrotate + SIGUSR1 while 20 clients send mail: one message event per message across the files; every pcap opens in tshark")
    func rotationUnderLoad() throws {
        _ = try ExternalProcess.locate("logrotate")
        _ = try ExternalProcess.locate("tshark")
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let log = scratch.file("audit.jsonl")
        let recording = scratch.file("sessions.pcap")
        let upstream = try MessageRecordingUpstream()
        let proxy = try ProxyProcess([
            "proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(upstream.server.port)", "--log", log, "--record", recording,
        ])
        defer { proxy.kill() }
        try proxy.waitUntilListening()
        let port = try #require(proxy.listeningPort())
        try scratch.write(
            """
            \(log) \(recording) {
                rotate 5
                nocompress
                nocopytruncate
                nocreate
                missingok
                sharedscripts
                postrotate
                    kill -USR1 \(proxy.pid)
                endscript
            }

            """, to: "logrotate.conf")

        // 20 clients; each sends its messages, a new session every third message.
        let total = Self.clients * Self.messagesPerClient
        let senders = (0..<Self.clients).map { client in
            BackgroundThread { () throws -> [String] in
                var failures: [String] = []
                var session: OperationsClient?
                for index in 0..<Self.messagesPerClient {
                    if session == nil || index % 3 == 0 {
                        if let session { try MailExchange.quit(session) }
                        session = try MailExchange.session(port: port).client
                    }
                    let id = "<c\(client)-m\(index)@rotation.test>"
                    let sent = try MailExchange.send(session!, id: id)
                    if sent.end?.hasPrefix("250") != true { failures.append("\(id): \(sent)") }
                }
                if let session { try MailExchange.quit(session) }
                return failures
            }
        }

        // Two rotations while the clients are sending: at a third and at two thirds of the mail.
        for (rotation, threshold) in [(1, total / 3), (2, 2 * total / 3)] {
            _ = waitUntil("\(threshold) messages delivered", timeout: 120) { upstream.messages.count >= threshold }
            let run = try ExternalProcess.run("logrotate", ["-f", "-s", scratch.file("logrotate.state"), scratch.file("logrotate.conf")])
            #expect(run.status == 0, "logrotate: \(run.output) \(run.error)")
            _ = waitUntil("reopen #\(rotation)") { proxy.standardErrorCount(of: "log reopened") >= rotation }
            #expect(upstream.messages.count < total, "rotation \(rotation) happened while mail was still being sent")
        }
        for sender in senders {
            #expect(try sender.value().isEmpty)
        }
        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 0, "\(proxy.standardError)")

        // Exactly one message event per delivered message, across the three audit files.
        let delivered = upstream.messages
        #expect(delivered.count == total)
        let files = [log + ".2", log + ".1", log]
        var seen: [String: Int] = [:]
        for file in files {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let lines = text.split(separator: "\n")
            let events = auditEvents(at: file)
            #expect(events.count == lines.count, "\(file): every line whole")
            let messages = events.filter { $0["event"] as? String == "message" }
            #expect(!messages.isEmpty, "\(file) holds part of the traffic")
            for message in messages { seen[message["message_id"] as? String ?? "?", default: 0] += 1 }
        }
        #expect(seen.count == total, "distinct messages logged: \(seen.count) of \(total)")
        #expect(seen.values.allSatisfy { $0 == 1 }, "logged twice: \(seen.filter { $0.value != 1 })")
        #expect(Set(delivered) == Set(seen.keys))

        // Each recording is a complete pcap: tshark reads it to the end without complaint.
        var commands = 0
        for file in [recording + ".2", recording + ".1", recording] {
            let read = try ExternalProcess.run(
                "tshark",
                ["-r", file, "-d", "tcp.port==\(upstream.server.port),smtp", "-Y", "smtp.req.command == \"MAIL\"", "-T", "fields", "-e", "frame.number"])
            // tshark's only remark allowed is its warning about running as root; a cut or damaged
            // file would be reported here ("appears to have been cut short", "isn't a capture file").
            let complaints = read.error.split(separator: "\n").filter { !$0.contains("Running as user") }
            #expect(read.status == 0 && complaints.isEmpty, "\(file): \(read.error)")
            commands += read.output.split(separator: "\n").count
        }
        #expect(commands > 0 && commands <= total, "MAIL commands in the recordings: \(commands)")
    }
}
