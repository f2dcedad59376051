import NIOCore
import SMTPCore
import SMTPFilters

/// Sessions and inputs for the engine micro-benchmarks. Everything here runs outside the measured
/// region: a benchmark builds its engine, brings it to the state under test, then starts measuring.
enum EngineFixture {
    static let time = SMTPTimestamp(seconds: 1_700_000_000)

    /// The repository's shipped `filters/`, found from this file's path so that the benchmark
    /// does not depend on the directory it is started from.
    static let shippedFilters: RuleSet = {
        var path = #filePath
        for _ in 0..<4 { path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }
        let rules: RuleSet
        do {
            rules = try RuleSet.load(paths: [path + "/filters"])
        } catch {
            fatalError("cannot load \(path)/filters: \(error)")
        }
        // "shipped filters" in a benchmark's name must mean rules really evaluated.
        guard !rules.rules.isEmpty else { fatalError("\(path)/filters holds no rules") }
        return rules
    }()

    /// The shipped rules with `max-message-size` raised so that a measured body of 1,000 chunks
    /// (62.5 MiB) is forwarded whole; the size check itself still runs on every chunk.
    static let shippedFiltersLargeMessages: RuleSet = {
        var settings = shippedFilters.settings
        settings.maxMessageSize = 1 << 30
        return RuleSet(rules: shippedFilters.rules, settings: settings)
    }()

    /// An engine after the greeting and EHLO, ready for commands, with empty effects.
    static func session(policy: any InspectionPolicy) -> (InspectionEngine, InspectionEffects) {
        var engine = InspectionEngine(
            configuration: InspectionConfiguration(
                sessionID: "bench-session-0001",
                client: Endpoint(host: "192.0.2.1", port: 40_000),
                server: Endpoint(host: "192.0.2.2", port: 25)),
            policy: policy)
        var effects = InspectionEffects()
        engine.start(at: time, into: &effects)
        engine.receiveFromServer(ByteBuffer(string: "220 mx.example.org ESMTP\r\n"), at: time, into: &effects)
        engine.receiveFromClient(ByteBuffer(string: "EHLO client.example.net\r\n"), at: time, into: &effects)
        engine.receiveFromServer(
            ByteBuffer(string: "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"),
            at: time, into: &effects)
        effects.removeAll()
        return (engine, effects)
    }

    /// An engine inside a DATA body, past the message's header section (so the header sniffer
    /// is done and what follows is the body fast path).
    static func insideBody(policy: any InspectionPolicy) -> (InspectionEngine, InspectionEffects) {
        var (engine, effects) = session(policy: policy)
        engine.receiveFromClient(
            ByteBuffer(string: "MAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n"), at: time, into: &effects)
        engine.receiveFromServer(ByteBuffer(string: "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"), at: time, into: &effects)
        engine.receiveFromClient(
            ByteBuffer(string: "Subject: benchmark\r\nMessage-ID: <1@example.net>\r\nMIME-Version: 1.0\r\n\r\n"), at: time, into: &effects)
        effects.removeAll()
        return (engine, effects)
    }

    /// 64 KiB of message body: 76-column base64-like lines with CRLF, one of them dot-stuffed.
    /// Chunk boundaries fall inside a line, and the chunk repeated is a valid body with no bare
    /// CR, LF or NUL: each chunk takes the DATA fast path.
    static let bodyChunk: ByteBuffer = {
        let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n"
        var text = line + "..leading dot, stuffed\r\n"
        while text.utf8.count + line.utf8.count <= 65_536 { text += line }
        text += String(repeating: "x", count: 65_536 - text.utf8.count)
        precondition(text.utf8.count == 65_536)
        return ByteBuffer(string: text)
    }()

    /// A command and the reply the server gives it, cycled through by the command benchmarks.
    struct Exchange {
        var command: ByteBuffer
        var reply: ByteBuffer
    }

    /// A mail transaction's commands without its content: the bulk of what a relay parses.
    static let transaction: [Exchange] = [
        Exchange(command: ByteBuffer(string: "MAIL FROM:<alice@example.net> SIZE=1000\r\n"), reply: ByteBuffer(string: "250 2.1.0 Ok\r\n")),
        Exchange(command: ByteBuffer(string: "RCPT TO:<bob@example.org>\r\n"), reply: ByteBuffer(string: "250 2.1.5 Ok\r\n")),
        Exchange(command: ByteBuffer(string: "RSET\r\n"), reply: ByteBuffer(string: "250 2.0.0 Ok\r\n")),
    ]

    static let noop = Exchange(command: ByteBuffer(string: "NOOP\r\n"), reply: ByteBuffer(string: "250 2.0.0 Ok\r\n"))

    /// `count` pipelined command lines (the transaction's, repeated) in one buffer.
    static func pipelinedCommands(count: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        for index in 0..<count {
            var command = transaction[index % transaction.count].command
            buffer.writeBuffer(&command)
        }
        return buffer
    }
}
