// Measures the shared engine alone (no sockets): DATA body throughput on a 100 MiB message fed
// in 64 KiB reads, and pipelined command throughput, with the shipped filters active.
import Foundation
import NIOCore
import SMTPCore
import SMTPFilters

let filters = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "../filters"
/// The rules the figures claim to run with: a rule set that does not load ends the benchmark
/// (exit 2) rather than measuring an engine without rules under the rules' name.
let policy: any InspectionPolicy = {
    do {
        let rules = try RuleSet.load(paths: [filters])
        guard !rules.rules.isEmpty else {
            FileHandle.standardError.write(Data("engine-throughput: \(filters) holds no rules\n".utf8))
            exit(2)
        }
        FileHandle.standardError.write(Data("engine-throughput: \(rules.rules.count) rules from \(filters)\n".utf8))
        return rules
    } catch {
        FileHandle.standardError.write(Data("engine-throughput: cannot load the rules in \(filters): \(error)\n".utf8))
        exit(2)
    }
}()
let time = SMTPTimestamp(seconds: 0)

func makeEngine(policy: any InspectionPolicy = policy) -> (InspectionEngine, InspectionEffects) {
    var engine = InspectionEngine(
        configuration: InspectionConfiguration(
            sessionID: "bench", client: Endpoint(host: "192.0.2.1", port: 1), server: Endpoint(host: "192.0.2.2", port: 25)),
        policy: policy)
    var effects = InspectionEffects()
    engine.start(at: time, into: &effects)
    engine.receiveFromServer(ByteBuffer(string: "220 mx ESMTP\r\n"), at: time, into: &effects)
    engine.receiveFromClient(ByteBuffer(string: "EHLO c\r\n"), at: time, into: &effects)
    engine.receiveFromServer(ByteBuffer(string: "250-mx\r\n250 PIPELINING\r\n"), at: time, into: &effects)
    effects.removeAll()
    return (engine, effects)
}

func seconds(_ block: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    block()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

// 1. DATA body: 100 MiB of 76-column lines (base64-like), some starting with a dot.
do {
    var line = String(repeating: "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0", count: 1) + "\r\n"
    var chunkText = ""
    while chunkText.utf8.count < 65_536 - 80 { chunkText += line }
    line = ".." + line
    chunkText += line
    let chunk = ByteBuffer(string: chunkText)
    let total = 100 * 1024 * 1024
    let reads = total / chunk.readableBytes
    // No max-message-size here: the whole 100 MiB must be forwarded.
    var (engine, effects) = makeEngine(policy: NoRules())
    engine.receiveFromClient(ByteBuffer(string: "MAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"), at: time, into: &effects)
    engine.receiveFromServer(ByteBuffer(string: "250 ok\r\n250 ok\r\n354 go\r\n"), at: time, into: &effects)
    effects.removeAll()
    var forwarded = 0
    let elapsed = seconds {
        for _ in 0..<reads {
            engine.receiveFromClient(chunk, at: time, into: &effects)
            // As a driver does: one walk over the ordered actions.
            for case .writeToServer(let buffer) in effects.actions { forwarded += buffer.readableBytes }
            effects.removeAll()
        }
        engine.receiveFromClient(ByteBuffer(string: "\r\n.\r\n"), at: time, into: &effects)
    }
    let megabytes = Double(reads * chunk.readableBytes) / 1_048_576
    print(String(format: "DATA body: %.0f MiB in %.3f s = %.0f MiB/s (forwarded %d octets)", megabytes, elapsed, megabytes / elapsed, forwarded))
}

// 1b. DATA body as smtp-source sends it (80-octet lines "1XXX…"), 16 MiB of distinct 64 KiB reads
// (not one read fed again and again from the cache), as scenario (c) of scripts/compare does.
do {
    var text = ""
    var number = 0
    while text.utf8.count < 16 << 20 {
        number += 1
        let label = String(number % 10)
        text += label + String(repeating: "X", count: 78 - label.utf8.count) + "\r\n"
    }
    let body = ByteBuffer(string: text)
    let reads = stride(from: 0, to: body.readableBytes, by: 65_536).map {
        body.getSlice(at: $0, length: min(65_536, body.readableBytes - $0))!
    }
    var best = Double.infinity
    for _ in 0..<8 {
        var (engine, effects) = makeEngine(policy: NoRules())
        engine.receiveFromClient(ByteBuffer(string: "MAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"), at: time, into: &effects)
        engine.receiveFromServer(ByteBuffer(string: "250 ok\r\n250 ok\r\n354 go\r\n"), at: time, into: &effects)
        effects.removeAll()
        best = min(best, seconds {
            for read in reads {
                engine.receiveFromClient(read, at: time, into: &effects)
                effects.removeAll()
            }
        })
    }
    print(String(format: "DATA body, smtp-source lines: 16 MiB in %.2f ms = %.0f MiB/s (best of 8)", best * 1e3, 16 / best))
}

// 2. Commands: pipelined MAIL/RCPT/RSET with their replies, shipped filters evaluated.
do {
    var (engine, effects) = makeEngine()
    let batch = ByteBuffer(string: "MAIL FROM:<alice@example.net> SIZE=1000\r\nRCPT TO:<bob@example.org>\r\nRSET\r\n")
    let replies = ByteBuffer(string: "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok\r\n")
    let rounds = 200_000
    var events = 0
    let elapsed = seconds {
        for _ in 0..<rounds {
            engine.receiveFromClient(batch, at: time, into: &effects)
            engine.receiveFromServer(replies, at: time, into: &effects)
            events += effects.events.count
            effects.removeAll()
        }
    }
    print(String(format: "commands: %d in %.3f s = %.0f commands/s (%d events)", rounds * 3, elapsed, Double(rounds * 3) / elapsed, events))
}

// 3. Whole messages as smtp-source sends them (scenario (a) of scripts/compare): MAIL, RCPT, DATA,
// a 1 KiB body, each read followed by the server's reply read, and every event encoded as the
// audit log's JSON line — the inspection work the live proxy does per message, without sockets.
do {
    var (engine, effects) = makeEngine()
    let body = "From: alice@example.net\r\nTo: bob@example.org\r\nSubject: benchmark\r\n\r\n"
        + String(repeating: String(repeating: "x", count: 76) + "\r\n", count: 12) + ".\r\n"
    let exchange: [(client: ByteBuffer, server: ByteBuffer)] = [
        (ByteBuffer(string: "MAIL FROM:<alice@example.net>\r\n"), ByteBuffer(string: "250 2.1.0 Ok\r\n")),
        (ByteBuffer(string: "RCPT TO:<bob@example.org>\r\n"), ByteBuffer(string: "250 2.1.5 Ok\r\n")),
        (ByteBuffer(string: "DATA\r\n"), ByteBuffer(string: "354 End data with <CR><LF>.<CR><LF>\r\n")),
        (ByteBuffer(string: body), ByteBuffer(string: "250 2.0.0 Ok: queued as 4XyZ1\r\n")),
    ]
    let messages = 200_000
    var json: [UInt8] = []
    json.reserveCapacity(1 << 16)
    var jsonBytes = 0
    let elapsed = seconds {
        for _ in 0..<messages {
            for (client, server) in exchange {
                engine.receiveFromClient(client, at: time, into: &effects)
                engine.receiveFromServer(server, at: time, into: &effects)
                for event in effects.events {
                    event.appendJSONLine(to: &json)
                }
                jsonBytes += json.count
                json.removeAll(keepingCapacity: true)
                effects.removeAll()
            }
        }
    }
    print(String(format: "messages: %d in %.3f s = %.2f µs per message, engine + audit JSON (%.0f JSON bytes per message)",
                 messages, elapsed, elapsed * 1e6 / Double(messages), Double(jsonBytes) / Double(messages)))
}
