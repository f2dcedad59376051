import Foundation
import Testing

// Helpers for the live-proxy integration suites (rule actions, pipelining, smuggling, STARTTLS,
// clients, large messages). Added next to the harness; the harness files themselves are unchanged.

// MARK: - Dedicated Postfix instances

/// A Postfix of its own for one suite. The suites that read Postfix's log (to prove a command
/// never reached it) need a log no other suite writes to: Postfix logs sessions by address, and
/// every proxy connects from 127.0.0.1, so the only clean separation is one instance per suite
/// with the suite `.serialized`. The instances are stopped when the test process exits.
enum DedicatedPostfix {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var instances: [String: PostfixInstance] = [:]

    static func instance(_ name: String, extraMainCF: [String] = []) throws -> PostfixInstance {
        lock.lock()
        defer { lock.unlock() }
        if let existing = instances[name] { return existing }
        let created = try PostfixInstance(extraMainCF: extraMainCF)
        // PostfixInstance found it ready by connecting once: let that probe session end in the
        // log, so that it is not taken for a session of the first test.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let counts = PostfixInstance.sessionCounts(created.log())
            if counts.disconnects >= 1 && counts.connects == counts.disconnects { break }
            usleep(20_000)
        }
        if instances.isEmpty { atexit { DedicatedPostfix.stopAll() } }
        instances[name] = created
        return created
    }

    private static func stopAll() {
        lock.lock()
        let all = Array(instances.values)
        instances.removeAll()
        lock.unlock()
        for instance in all { instance.stop() }
    }
}

// MARK: - Reading Postfix's log

extension PostfixInstance {
    /// A position in the log: `log(since:)` returns what was logged after it.
    var logMark: Int { log().utf8.count }

    func log(since mark: Int) -> String {
        String(decoding: Array(log().utf8.dropFirst(mark)), as: UTF8.self)
    }

    /// smtpd sessions that began / ended in `text`.
    static func sessionCounts(_ text: String) -> (connects: Int, disconnects: Int) {
        (text.components(separatedBy: ": connect from ").count - 1, text.components(separatedBy: ": disconnect from ").count - 1)
    }

    /// Waits until no smtpd session is open (every `connect from` has its `disconnect from`) and
    /// returns a mark: what is logged after it belongs to sessions the test starts afterwards.
    func quiescentMark(sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        _ = waitUntil("postfix to have no open session", sourceLocation: sourceLocation) {
            let counts = Self.sessionCounts(log())
            return counts.connects == counts.disconnects
        }
        return logMark
    }

    /// Waits until at least `count` smtpd sessions have ended since `mark`, and none is open;
    /// returns the log since `mark`.
    @discardableResult
    func waitForSessions(since mark: Int, count: Int = 1, timeout: Double = 30, sourceLocation: SourceLocation = #_sourceLocation)
        -> String
    {
        var text = ""
        _ = waitUntil("\(count) postfix session(s) to end", timeout: timeout, sourceLocation: sourceLocation) {
            text = log(since: mark)
            let counts = Self.sessionCounts(text)
            return counts.disconnects >= count && counts.connects == counts.disconnects
        }
        return text
    }

    /// The per-command counters of each `disconnect from` line (Postfix's session summary, e.g.
    /// `ehlo=1 mail=1 rcpt=1/2 data=1 quit=1 commands=5/6`), keyed by lower-case command.
    static func commandStatistics(_ text: String) -> [[String: String]] {
        text.split(separator: "\n").filter { $0.contains(": disconnect from ") }.map { line in
            var statistics: [String: String] = [:]
            for word in line.split(separator: " ") {
                let parts = word.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { statistics[String(parts[0])] = String(parts[1]) }
            }
            return statistics
        }
    }

    /// Waits for a log line (since `mark`) containing every one of `texts`; returns it.
    func waitForLogLine(since mark: Int, containing texts: [String], timeout: Double = 30, sourceLocation: SourceLocation = #_sourceLocation)
        -> String?
    {
        var found: String?
        _ = waitUntil("a postfix log line with \(texts)", timeout: timeout, sourceLocation: sourceLocation) {
            found = log(since: mark).split(separator: "\n").first { line in texts.allSatisfy { line.contains($0) } }.map(String.init)
            return found != nil
        }
        return found
    }

    /// Delivered files (raw bytes) containing `token`, by file name.
    func deliveredFiles(containing token: String) -> [(name: String, bytes: Data)] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: maildir)) ?? []
        let needle = Data(token.utf8)
        return files.sorted().compactMap { name in
            guard let bytes = FileManager.default.contents(atPath: "\(maildir)/\(name)"), bytes.range(of: needle) != nil else { return nil }
            return (name, bytes)
        }
    }

    /// Waits until `count` delivered messages contain `token`; returns them.
    @discardableResult
    func waitForMessages(containing token: String, count: Int, timeout: Double = 60, sourceLocation: SourceLocation = #_sourceLocation)
        -> [String]
    {
        var found: [String] = []
        _ = waitUntil("\(count) delivered messages containing \(token)", timeout: timeout, sourceLocation: sourceLocation) {
            found = messages(containing: token)
            return found.count >= count
        }
        return found
    }
}

// MARK: - Tokens and messages

/// A token no other test uses; lower case, so that Postfix's logs and addresses keep it as is.
func uniqueToken(_ prefix: String = "tok") -> String {
    prefix + "-" + UUID().uuidString.lowercased()
}

/// A message with complete headers (so Postfix adds none inside it), CRLF line ends, without the
/// final `.`; `token` is its subject and in its body.
func testMessage(token: String, from: String = "alice@example.net", to: String = "bob@example.org", body: String? = nil) -> String {
    "From: \(from)\r\nTo: \(to)\r\nDate: Sun, 29 Nov 2026 09:00:00 +0000\r\nSubject: \(token)\r\n"
        + "Message-ID: <\(token)@example.net>\r\n\r\n" + (body ?? "Body of \(token).\r\n")
}

/// The message as the Maildir stores it: LF line ends.
func maildirForm(_ message: String) -> String {
    message.replacingOccurrences(of: "\r\n", with: "\n")
}

// MARK: - Raw SMTP conveniences

extension RawSMTPClient {
    /// Reads the greeting and says EHLO; returns both replies.
    @discardableResult
    func open(ehlo name: String = "client.test") throws -> (greeting: String, ehlo: String) {
        let greeting = try readReply() ?? "<closed>"
        try send("EHLO \(name)\r\n")
        let ehlo = try readReply() ?? "<closed>"
        return (greeting, ehlo)
    }

    /// Sends one command line (CRLF added) and reads its reply.
    func command(_ line: String) throws -> String {
        try send(line + "\r\n")
        return try readReply() ?? "<closed>"
    }
}

/// The keywords of an EHLO reply (the text after `250-`/`250 `, first word, upper case), without
/// the greeting line.
func ehloKeywords(_ reply: String) -> [String] {
    reply.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }.map {
        String($0.dropFirst(4).split(separator: " ").first ?? "").uppercased()
    }
}

/// True when a multi-line reply is framed correctly: every line `CODE-` but the last, `CODE `.
func isWellFramed(_ reply: String, code: String = "250") -> Bool {
    guard reply.hasSuffix("\r\n") else { return false }
    let lines = reply.components(separatedBy: "\r\n").dropLast()
    guard let last = lines.last, last.hasPrefix(code + " ") else { return false }
    return lines.dropLast().allSatisfy { $0.hasPrefix(code + "-") }
}

// MARK: - Audit log conveniences

extension ProxyHarness {
    func commandEvents() -> [[String: Any]] { events("command") }

    func anomalyKinds() -> [String] { events("anomaly").compactMap { $0["kind"] as? String } }

    /// The `command` event of the first command with `verb` (and an `arg` containing `argument`).
    func commandEvent(_ verb: String, argument: String? = nil) -> [String: Any]? {
        commandEvents().first { event in
            event["verb"] as? String == verb && (argument.map { (event["arg"] as? String)?.contains($0) == true } ?? true)
        }
    }

    /// The `reply` events in order, as (`for`, `code`, `local`).
    func replySummary() -> [(verb: String?, code: Int?, local: Bool?)] {
        events("reply").map { ($0["for"] as? String, $0["code"] as? Int, $0["local"] as? Bool) }
    }
}
