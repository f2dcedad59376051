import Foundation
import Testing

/// One generated DATA body: a message whose body holds `fragment` (bytes around line ends and end
/// of data), optionally followed by a complete smuggled transaction (MAIL/RCPT/DATA/body/`CRLF.CRLF`)
/// as its content, and optionally by a second transaction pipelined right after the real end.
struct DataSequence: Sendable {
    var index: Int
    var name: String
    var fragment: [UInt8]
    var atLineStart: Bool
    var smuggled: Bool
    var pipelined: Bool

    func sender(_ role: String, run: String) -> String { "\(role)\(index).\(run)@example.net" }

    private func headers(_ role: String, run: String, to: String) -> String {
        "X-Diff: \(role)\(index)\r\nFrom: alice@example.net\r\nTo: \(to)\r\nDate: Sun, 29 Nov 2026 09:00:00 +0000\r\n"
            + "Subject: differential \(role)\(index)\r\nMessage-ID: <\(role)\(index).\(run)@example.net>\r\n\r\n"
    }

    /// Where the fragment ends in `payload` (and the smuggled transaction, if any, starts).
    func fragmentEnd(run: String) -> Int {
        Array(headers("o", run: run, to: "bob@example.org").utf8).count + 5 + (atLineStart ? 2 : 0) + fragment.count
    }

    /// Everything the client sends after the 354: body, end(s) of data, pipelined commands, QUIT.
    func payload(run: String) -> [UInt8] {
        var bytes = Array((headers("o", run: run, to: "bob@example.org") + "Hello" + (atLineStart ? "\r\n" : "")).utf8)
        bytes += fragment
        if smuggled {
            bytes += Array(
                ("MAIL FROM:<\(sender("s", run: run))>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n"
                    + headers("s", run: run, to: "victim@example.org") + "Smuggled \(index)\r\n.\r\n").utf8)
        } else {
            bytes += Array("after\r\n.\r\n".utf8)
        }
        if pipelined {
            bytes += Array(
                ("MAIL FROM:<\(sender("p", run: run))>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n"
                    + headers("p", run: run, to: "carol@example.org") + "Pipelined \(index)\r\n.\r\n").utf8)
        }
        return bytes + Array("QUIT\r\n".utf8)
    }

    /// THREATS.md's named sequences, every string of 1–4 octets over CR, LF, NUL and `.` (at a line
    /// start and inside a line), long lines around Postfix's 2048-octet `line_length_limit`, and
    /// seeded random strings of line-end tokens.
    static func all() -> [DataSequence] {
        var fragments: [(String, [UInt8], Bool)] = []
        for sequence in SmugglingSequence.all {
            fragments.append((sequence.name, sequence.bytes, false))
            fragments.append((sequence.name + " at line start", sequence.bytes, true))
        }
        for extra in ["\n.\r", "\r.\n", "\r\n.\r\r\n", "\r\r\n.\r\r\n", "\r\n.\r\n\r\n.\r\n", "\n..\n", "\r\n..\r\n", ".\r\n.\n"] {
            fragments.append(("scanner list " + escapedBytes(Array(extra.utf8)), Array(extra.utf8), false))
        }
        let alphabet: [UInt8] = [0x0D, 0x0A, 0x00, 0x2E]
        var strings: [[UInt8]] = [[]]
        for length in 1...4 {
            strings = strings.flatMap { prefix in alphabet.map { prefix + [$0] } }
            for (number, string) in strings.enumerated() where length < 4 || number % 2 == 0 {
                fragments.append(("exhaustive", string, false))
                fragments.append(("exhaustive at line start", string, true))
            }
        }
        for length in [2046, 2047, 2048, 2049, 4096] {
            for tail in ["\r\n.\r\n", ".\r\n", "\n.\n", "\r.\r"] {
                fragments.append(("long line \(length)", [UInt8](repeating: UInt8(ascii: "x"), count: length) + Array(tail.utf8), true))
            }
        }
        var generator = GarbageGenerator(seed: 0xD1FF_5EED)
        let tokens = ["\r", "\n", "\0", ".", "a", " ", "\r\n", "\r\n.", ".\r\n", "\n.", "\r.", "..", "\t"].map { Array($0.utf8) }
        for _ in 0..<600 {
            let count = Int(generator.next() % 12) + 1
            let string = (0..<count).flatMap { _ in tokens[Int(generator.next() % UInt64(tokens.count))] }
            fragments.append(("random", string, generator.next() % 2 == 0))
        }
        return fragments.enumerated().map { index, entry in
            DataSequence(
                index: index, name: entry.0, fragment: entry.1, atLineStart: entry.2, smuggled: index % 4 != 3, pipelined: index % 3 == 0)
        }
    }
}

/// Differential test against Postfix (issue 7 item 2, SPEC §4 DATA, THREATS.md): a thousand DATA
/// bodies with bytes around line ends and end of data go through the proxy (with the shipped
/// filters, without rules, or with `bare-newline: reject`) to a real Postfix that is vulnerable to
/// smuggling on purpose (`smtpd_forbid_bare_newline = no`). For every sequence what Postfix
/// delivered — how many messages, their envelopes, their bodies as stored in the Maildir — must be what the proxy's
/// audit log says it forwarded (`message`: `mail_from`, `rcpt_to`, `size`), and both must match a
/// plain model of the framing (`DataFramingModel`): no message appears that the proxy did not log.
/// Each sequence has its own session, eight at a time; a failure prints the exact bytes.
@Suite(.serialized) struct DifferentialDataFramingTests {
    @Test func postfixDeliversExactlyWhatTheProxyLogged() async throws {
        let postfix = try DedicatedPostfix.instance("differential-data")
        postfix.clearMailbox()
        // Sequence i goes through proxies[i % 3]: the shipped filters, no rules, `bare-newline: reject`.
        let proxies = [
            try await ProxyHarness(upstreamPort: postfix.port, filterPaths: [ProxyHarness.shippedFilters]),
            try await ProxyHarness(upstreamPort: postfix.port),
            try await ProxyHarness(upstreamPort: postfix.port, rules: "settings:\n  bare-newline: reject\n"),
        ]
        let configurations = ["shipped filters", "no rules", "bare-newline: reject"]
        let ports = proxies.map(\.port)
        let sequences = DataSequence.all()
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)

        let clientFailures = runOnThreads(sequences.count, threads: 8) { index in
            let sequence = sequences[index]
            let client = try RawSMTPClient(port: ports[index % 3])
            _ = try client.readReply()
            try client.send("EHLO differential.test\r\nMAIL FROM:<\(sequence.sender("o", run: run))>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n")
            let replies = try client.readReplies(4)
            guard replies.map({ $0.prefix(3) }) == ["250", "250", "250", "354"] else {
                throw RawSMTPClient.Failure(description: "transaction not opened: \(replies)")
            }
            try client.send(sequence.payload(run: run))
            _ = try client.readToEnd()
        }
        #expect(clientFailures.isEmpty, "\(clientFailures.count) sessions failed: \(clientFailures.prefix(5))")

        for (number, proxy) in proxies.enumerated() {
            proxy.waitForSessionEnds(stride(from: number, to: sequences.count, by: 3).underestimatedCount, timeout: 120)
        }
        let logged = proxies.flatMap { $0.events("message") }.map(LoggedMessage.init)
        let accepted = logged.filter { $0.result == 250 }
        let expectedFiles = accepted.reduce(0) { $0 + $1.recipients.count }
        _ = waitUntil("\(expectedFiles) deliveries (have \(postfix.deliveredCount()))", timeout: 180) {
            postfix.deliveredCount() >= expectedFiles && postfix.queuesAreEmpty
        }
        let delivered = postfix.deliveredMessagesParsed()
        for proxy in proxies { await proxy.stop() }

        var loggedBySender: [String: [LoggedMessage]] = [:]
        for message in accepted { loggedBySender[message.sender, default: []].append(message) }
        var deliveredBySender: [String: [DeliveredMessage]] = [:]
        for message in delivered { deliveredBySender[message.sender, default: []].append(message) }

        var failures: [String] = []
        var known = Set<String>()
        var smuggledReal = 0
        for sequence in sequences {
            let payload = sequence.payload(run: run)
            var problems: [String] = []
            guard let model = DataFramingModel.forwarded(payload) else {
                failures.append("#\(sequence.index) \(sequence.name): the model finds no end of data in \(escapedBytes(payload))")
                continue
            }
            // The smuggled transaction is content unless the real end of data comes first, inside
            // the fragment. When it ends the fragment, the smuggled MAIL line is intact and its
            // transaction real. When it comes earlier, the rest of the fragment becomes commands
            // (Postfix hangs up on a line that does not start with a letter, and on a header line
            // taken for a command), so the model expects nothing: only that log and Maildir agree.
            let fragmentEnd = sequence.fragmentEnd(run: run)
            let early = model.end < fragmentEnd
            // Under `bare-newline: reject`, a bare CR or LF or a NUL before the end of data gets
            // 550 and the session closed with the upstream's transaction cut off: nothing at all.
            let refused = sequence.index % 3 == 2 && !DataFramingModel.isCanonical(payload[..<model.end])
            let outerExpected = refused ? 0 : 1
            let smuggledExpected: Int? = !sequence.smuggled || refused ? 0 : early ? nil : model.end == fragmentEnd ? 1 : 0
            let pipelinedExpected: Int? =
                !sequence.pipelined || refused ? 0 : early || (model.end == fragmentEnd && !sequence.smuggled) ? nil : 1
            if model.end <= fragmentEnd { smuggledReal += 1 }
            for role in ["o", "s", "p"] {
                let sender = sequence.sender(role, run: run)
                known.insert(sender)
                let logs = loggedBySender[sender] ?? []
                let files = deliveredBySender[sender] ?? []
                let expected: Int? = role == "o" ? outerExpected : role == "s" ? smuggledExpected : pipelinedExpected
                if logs.count != files.count || (expected.map { $0 != logs.count } ?? false) || logs.count > 1 {
                    problems.append("\(role): the model expects \(expected.map(String.init) ?? "any number of") message(s), "
                        + "the proxy logged \(logs.count), Postfix delivered \(files.count)")
                    continue
                }
                guard let log = logs.first, let file = files.first else { continue }
                if log.recipients != [file.recipient] {
                    problems.append("\(role): logged rcpt_to \(log.recipients), Postfix delivered to \(file.recipient)")
                }
                guard let content = file.content else {
                    problems.append("\(role): delivered file \(file.file) lacks the X-Diff header")
                    continue
                }
                if role == "o" {
                    if log.size != model.bytes.count {
                        problems.append("o: logged size \(log.size), the model forwards \(model.bytes.count): \(escapedBytes(model.bytes))")
                    }
                    let stored = DataFramingModel.stored(model.bytes)
                    if content != stored {
                        problems.append("o: Postfix stored \(escapedBytes(content)) but the model forwards \(escapedBytes(stored))")
                    }
                } else if log.size != DataFramingModel.wire(content).count {
                    problems.append("\(role): logged size \(log.size), Postfix stored \(DataFramingModel.wire(content).count) octets")
                }
            }
            if !problems.isEmpty {
                failures.append(
                    "#\(sequence.index) \(sequence.name) (\(configurations[sequence.index % 3])) fragment \"\(escapedBytes(sequence.fragment))\": "
                        + problems.joined(separator: "; ") + "\n    bytes after 354: \"\(escapedBytes(payload))\"")
            }
        }
        let strangers = delivered.filter { !known.contains($0.sender) }
        for stranger in strangers {
            failures.append("Postfix delivered a message from <\(stranger.sender)> that no sequence sent (\(stranger.file))")
        }
        print("differential (DATA): \(sequences.count) sequences through the proxy into Postfix, \(accepted.count) messages logged, "
            + "\(delivered.count) delivered; \(smuggledReal) sequences held a real end of data inside the fragment")
        for failure in failures.prefix(20) { Issue.record(Comment(rawValue: failure)) }
        #expect(failures.isEmpty, "\(failures.count) of \(sequences.count) sequences disagree")
        #expect(delivered.count == expectedFiles)
    }
}
