import Foundation
import Logging
import NIOCore
import SMTPCore
import SMTPProxy
import Testing

/// A unique token for one message, so a test finds its own message among everyone's.
func opsToken(_ prefix: String = "ops") -> String {
    "\(prefix)-" + UUID().uuidString.lowercased()
}

/// Complete headers (so Postfix adds none inside the message) and a short body, CRLF line ends,
/// without the end-of-data line.
func messageText(token: String, bodyLines: Int = 3) -> String {
    var text = "From: alice@example.net\r\nTo: bob@example.org\r\nDate: Sun, 29 Nov 2026 09:00:00 +0000\r\n"
        + "Subject: \(token)\r\nMessage-ID: <\(token)@example.net>\r\n\r\n"
    for index in 0..<bodyLines { text += "line \(index) of \(token)\r\n" }
    return text
}

/// Runs one complete, well-behaved SMTP session on `client` that sends one message carrying
/// `token`; returns the replies, in order (greeting first).
@discardableResult
func sendMessage(_ client: OperationsClient, token: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
    var replies: [String] = []
    func expect(_ prefix: String) throws {
        let reply = try client.readReply() ?? "<closed>"
        replies.append(reply)
        #expect(reply.hasPrefix(prefix), "expected \(prefix), got \(reply)", sourceLocation: sourceLocation)
    }
    try expect("220")
    try client.send("EHLO client.test\r\n")
    try expect("250")
    try client.send("MAIL FROM:<alice@example.net>\r\n")
    try expect("250")
    try client.send("RCPT TO:<bob@example.org>\r\n")
    try expect("250")
    try client.send("DATA\r\n")
    try expect("354")
    try client.send(messageText(token: token) + ".\r\n")
    try expect("250")
    try client.send("QUIT\r\n")
    try expect("221")
    return replies
}

/// A proxy built directly on `ProxyServer` for what `ProxyHarness` does not offer: any listen
/// address (IPv6, host names) and any timeouts.
final class CustomProxy: @unchecked Sendable {
    let server: ProxyServer
    let port: Int
    let logPath: String
    private let directory: ScratchDirectory

    init(listen: HostAndPort, upstream: HostAndPort, timeouts: ProxyTimeouts = ProxyTimeouts(), maxConnections: Int = 10_000) async throws {
        directory = try ScratchDirectory()
        logPath = directory.file("audit.jsonl")
        let configuration = ProxyConfiguration(
            listen: listen, upstream: upstream, maxConnections: maxConnections, timeouts: timeouts, connectTimeout: 30, threads: 2)
        var logger = Logger(label: "proxy-ops-test")
        logger.logLevel = .warning
        server = try ProxyServer(
            configuration: configuration, policies: try PolicyStore(paths: []), auditLog: try AuditLogWriter(path: logPath), logger: logger)
        port = try await server.start().port!
    }

    func events() -> [[String: Any]] { auditEvents(at: logPath) }

    func events(_ name: String) -> [[String: Any]] { events().filter { $0["event"] as? String == name } }

    @discardableResult
    func waitForSessionEnds(_ count: Int, timeout: Double = 30, sourceLocation: SourceLocation = #_sourceLocation) -> [[String: Any]] {
        _ = waitUntil("\(count) session-end events", timeout: timeout, sourceLocation: sourceLocation) {
            events("session-end").count >= count
        }
        return events()
    }

    func stop() async {
        await server.shutdown()
        directory.remove()
    }
}

extension Array where Element == [String: Any] {
    /// The events of one kind.
    func named(_ name: String) -> [[String: Any]] { filter { $0["event"] as? String == name } }

    /// The events of one session, in order.
    func session(_ id: String) -> [[String: Any]] { filter { $0["session"] as? String == id } }

    /// `event` names in order, for readable failure messages.
    var eventNames: [String] { map { ($0["event"] as? String) ?? "?" } }
}

// MARK: - Postfix's queue and log, read as an outside judge

/// What a Postfix instance did with one incoming SMTP connection, read from its queue directory
/// and its log: the proof that an aborted message was received in part and then thrown away.
struct PostfixQueueProbe {
    let postfix: PostfixInstance

    var queueDirectory: String { postfix.directory + "/queue" }

    /// Queue files (any queue: incoming, active, deferred, hold…) whose bytes contain `token`,
    /// with their sizes. Postfix writes a message to `incoming/<queue id>` while it receives it.
    func queueFiles(containing token: String, in queues: [String] = ["incoming", "active", "deferred", "hold", "maildrop"])
        -> [(queue: String, id: String, size: Int)]
    {
        var found: [(String, String, Int)] = []
        let needle = Data(token.utf8)
        for queue in queues {
            let root = queueDirectory + "/" + queue
            guard let walker = FileManager.default.enumerator(atPath: root) else { continue }
            while let relative = walker.nextObject() as? String {
                let path = root + "/" + relative
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                    let data = FileManager.default.contents(atPath: path), data.range(of: needle) != nil
                else { continue }
                found.append((queue, URL(fileURLWithPath: relative).lastPathComponent, data.count))
            }
        }
        return found
    }

    /// The pid of the smtpd that received the message with `queueID` (`smtpd[PID]: ID: client=…`).
    func smtpdPID(forQueueID queueID: String) -> String? {
        for line in postfix.log().split(separator: "\n") where line.contains(": \(queueID): client=") {
            guard let open = line.range(of: "smtpd["), let close = line[open.upperBound...].firstIndex(of: "]") else { continue }
            return String(line[open.upperBound..<close])
        }
        return nil
    }

    /// The first line that smtpd `pid` logged about how the connection of `queueID` ended
    /// (`lost connection after …` or `disconnect from …`), once it is in the log.
    func connectionEnd(pid: String, queueID: String) -> String? {
        let lines = postfix.log().split(separator: "\n")
        guard let start = lines.firstIndex(where: { $0.contains(": \(queueID): client=") }) else { return nil }
        for line in lines[start...] where line.contains("smtpd[\(pid)]:") {
            if line.contains("lost connection after") || line.contains("disconnect from") || line.contains("timeout after") {
                return String(line)
            }
        }
        return nil
    }
}

/// The body of a partial message: many lines, each carrying `token`, about `size` octets.
func partialBody(token: String, size: Int) -> String {
    var text = messageText(token: token, bodyLines: 0)
    var index = 0
    while text.utf8.count < size {
        text += "partial line \(index) of \(token) xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"
        index += 1
    }
    return text
}
