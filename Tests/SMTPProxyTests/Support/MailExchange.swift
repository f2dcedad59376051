import Foundation

/// A scripted upstream (`FakeUpstream`) that accepts every message and records its Message-ID,
/// so a test knows exactly what was delivered.
final class MessageRecordingUpstream: Sendable {
    let server: FakeUpstream
    private let delivered = LockedBox<[String]>([])
    private let verbs = LockedBox<[String]>([])

    init() throws {
        let delivered = self.delivered
        let verbs = self.verbs
        server = try FakeUpstream.answering(
            onCommand: { verb in verbs.withLock { $0.append(verb) } },
            data: { connection in
                var id = "?"
                while let line = try connection.readLine(), line != ".\r\n" {
                    if line.lowercased().hasPrefix("message-id:") {
                        id = line.dropFirst("message-id:".count).trimmingCharacters(in: .whitespacesAndNewlines)
                    }
                }
                delivered.withLock { $0.append(id) }
                return "250 2.0.0 queued as \(id)\r\n"
            })
    }

    var messages: [String] { delivered.withLock { $0 } }
    var commands: [String] { verbs.withLock { $0 } }
}

/// One client's mail exchanges, for the operations tests (blocking, one command at a time).
enum MailExchange {
    /// Sends one message in an open session; returns the reply to MAIL and, when it was
    /// accepted, the reply to the end of data.
    static func send(_ client: OperationsClient, id: String) throws -> (mail: String, end: String?) {
        try client.send("MAIL FROM:<sender@example.test>\r\n")
        let mail = try client.readReply() ?? "<closed>"
        guard mail.hasPrefix("250") else { return (mail, nil) }
        try client.send("RCPT TO:<rcpt@example.test>\r\n")
        _ = try client.readReply()
        try client.send("DATA\r\n")
        guard let go = try client.readReply(), go.hasPrefix("354") else { return (mail, "no 354") }
        try client.send("Message-ID: \(id)\r\nSubject: audit test\r\n\r\nbody of \(id)\r\n.\r\n")
        return (mail, try client.readReply())
    }

    static func session(port: Int) throws -> (client: OperationsClient, greeting: String) {
        let client = try OperationsClient(port: port)
        let greeting = try client.readReply() ?? "<closed>"
        if greeting.hasPrefix("220") {
            try client.send("EHLO client.test\r\n")
            _ = try client.readReply()
        }
        return (client, greeting)
    }

    static func quit(_ client: OperationsClient) throws {
        try client.send("QUIT\r\n")
        _ = try client.readReply()
        client.close()
    }
}
