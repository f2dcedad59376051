import Foundation
import Testing

/// One spelling of a refused verb (the shipped `no-vrfy-expn` rule): case, leading blanks,
/// separators (SP, HT, VT, FF, bare CR, NUL), line ends (CRLF, bare LF, CR CR LF, trailing
/// blanks), sent whole, a byte per send, or split inside the verb, after a pipelined command.
struct RefusedVerbVariant: Sendable {
    var index: Int
    var line: [UInt8]
    var before: [UInt8]
    var split: Split

    enum Split: Sendable { case whole, bytes, insideVerb }

    /// The argument carries the index, so a variant that reached Postfix is found in its log.
    static func argument(_ index: Int) -> String { "v\(index)x@example.com" }

    static func all() -> [RefusedVerbVariant] {
        let verbs = ["VRFY", "vrfy", "Vrfy", "vRfY", "VRFy", "EXPN", "expn", "eXpN"]
        let leads = ["", " ", "\t", " \t ", "\u{0B}", "\u{0C}", "\r", "\0"]
        let separators = [" ", "\t", "   ", "\t \t", "\u{0B}", "\u{0C}", " \u{0B}", "\t\u{0B}\u{0C} ", "\r", "\0"]
        let ends = ["\r\n", "\n", "\r\r\n", " \r\n", "\t\n", "\u{0B}\r\n"]
        var variants: [RefusedVerbVariant] = []
        for verb in verbs {
            for lead in leads {
                for separator in separators {
                    for end in ends {
                        let index = variants.count
                        let line = Array((lead + verb + separator + argument(index) + end).utf8)
                        let before = index % 11 == 0 ? "RSET\r\n" : index % 13 == 0 ? "NOOP\r\n" : ""
                        let split: Split = index % 7 == 0 ? .bytes : index % 5 == 0 ? .insideVerb : .whole
                        variants.append(RefusedVerbVariant(index: index, line: line, before: Array(before.utf8), split: split))
                    }
                }
            }
        }
        return variants
    }

    /// How Postfix's smtpd reads the line (`smtpd_token.c`): the line end goes, words are split on
    /// `isspace()`; the verb is the first word, upper case. Nil when the proxy refuses the line
    /// outright (a NUL or a bare CR in it), so that nothing of it is forwarded.
    var verbAsPostfixReadsIt: String? {
        var content = line
        if content.last == 0x0A { content.removeLast() }
        if content.last == 0x0D { content.removeLast() }
        if content.contains(0x00) || content.contains(0x0D) { return nil }
        let words = content.split { [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D].contains($0) }
        return words.first.map { String(decoding: $0, as: UTF8.self).uppercased() }
    }

    /// The sends that carry this variant.
    var segments: [[UInt8]] {
        switch split {
        case .whole: return [before + line]
        case .bytes: return (before.isEmpty ? [] : [before]) + line.map { [$0] }
        case .insideVerb:
            let cut = line.firstIndex { (0x41...0x7A).contains($0) }.map { $0 + 2 } ?? 1
            return [before + line[..<cut], Array(line[cut...])]
        }
    }
}

/// Command framing, differentially (issue 7 item 2, SPEC §4 "a rule can never be evaded by case,
/// spacing, line-end tricks, TCP segmentation or pipelining"): thousands of spellings of VRFY and
/// EXPN go through the proxy with the shipped filters to a Postfix that rejects and logs every
/// VRFY it executes (`smtpd_relay_restrictions = reject`: `NOQUEUE: reject: VRFY from …`). None may
/// reach it; a control sent straight to Postfix shows that it would have logged them. Each
/// variant gets exactly one reply, in order.
@Suite(.serialized) struct DifferentialCommandFramingTests {
    @Test func noSpellingOfARefusedVerbReachesPostfix() async throws {
        let postfix = try DedicatedPostfix.instance("differential-framing", extraMainCF: ["smtpd_relay_restrictions = reject"])

        // The control: Postfix executes (and logs) VRFY spelt with HT and VT, on a bare LF.
        var mark = postfix.quiescentMark()
        let direct = try RawSMTPClient(port: postfix.port)
        try direct.open()
        try direct.send("VRFY\u{0B}control-vt@example.com\r\nvrfy\tcontrol-tab@example.com\nQUIT\r\n")
        _ = try direct.readToEnd()
        let control = postfix.waitForSessions(since: mark)
        #expect(control.contains("reject: VRFY from") && control.contains("control-vt@example.com")
            && control.contains("control-tab@example.com"), "Postfix did not log the VRFY it executed: \(control)")

        let proxy = try await ProxyHarness(upstreamPort: postfix.port, filterPaths: [ProxyHarness.shippedFilters])
        let variants = RefusedVerbVariant.all()
        let sessions = 8
        mark = postfix.quiescentMark()
        let failures = runOnThreads(sessions, threads: sessions) { session in
            let client = try RawSMTPClient(port: proxy.port)
            try client.open()
            let mine = stride(from: session, to: variants.count, by: sessions).map { variants[$0] }
            for batch in stride(from: 0, to: mine.count, by: 25).map({ mine[$0..<min($0 + 25, mine.count)] }) {
                for variant in batch {
                    for segment in variant.segments { try client.send(segment) }
                }
                let expected = batch.reduce(0) { $0 + 1 + ($1.before.isEmpty ? 0 : 1) }
                let replies = try client.readReplies(expected)
                // The replies to the variants themselves: the proxy's own refusals, never Postfix's.
                var position = 0
                for variant in batch {
                    position += variant.before.isEmpty ? 0 : 1
                    let reply = replies[position]
                    position += 1
                    if let verb = variant.verbAsPostfixReadsIt, verb == "VRFY" || verb == "EXPN", !reply.hasPrefix("502 5.5.1 VRFY and EXPN") {
                        throw RawSMTPClient.Failure(description: "\"\(escapedBytes(variant.line))\" is \(verb) to Postfix, the proxy answered \(reply)")
                    }
                    if reply.hasPrefix("554") || reply.hasPrefix("252") || reply.hasPrefix("<closed>") {
                        throw RawSMTPClient.Failure(description: "\"\(escapedBytes(variant.line))\" got \(reply)")
                    }
                }
            }
            try client.send("QUIT\r\n")
            _ = try client.readToEnd()
        }
        #expect(failures.isEmpty, "\(failures.count) sessions failed: \(failures.prefix(5))")
        let log = postfix.waitForSessions(since: mark, count: sessions, timeout: 60)
        let statistics = PostfixInstance.commandStatistics(log)
        #expect(statistics.count == sessions)
        // Postfix logs each VRFY it executes (and rejects), with its argument.
        let executed = log.split(separator: "\n").filter { $0.contains("reject: VRFY from") }
        let leaked = variants.filter { variant in executed.contains { $0.contains("<\(RefusedVerbVariant.argument(variant.index))>") } }
        for variant in leaked.prefix(20) {
            let lines = executed.filter { $0.contains(RefusedVerbVariant.argument(variant.index)) }
            Issue.record("reached Postfix: \"\(escapedBytes(variant.line))\" (segments \(variant.segments.map { escapedBytes($0) })): \(lines)")
        }
        #expect(leaked.isEmpty, "\(leaked.count) of \(variants.count) variants reached Postfix")
        #expect(executed.isEmpty && statistics.allSatisfy { $0["vrfy"] == nil && $0["expn"] == nil },
            "Postfix executed a VRFY: \(log.split(separator: "\n").filter { $0.contains("VRFY") || $0.contains("vrfy=") }.prefix(5))")

        // The audit log refused every variant Postfix would have read as VRFY or EXPN. The log is
        // written behind the sessions: read it once every session's end is in it.
        _ = proxy.waitForSessionEnds(sessions, timeout: 60)
        let refusedByRule = proxy.commandEvents().filter { $0["rule"] as? String == "no-vrfy-expn" && $0["action"] as? String == "reject" }
        let asPostfixReadsThem = variants.filter { ["VRFY", "EXPN"].contains($0.verbAsPostfixReadsIt ?? "") }
        #expect(refusedByRule.count == asPostfixReadsThem.count, Comment(rawValue: "refused by the rule: \(refusedByRule.count), VRFY/EXPN to Postfix: \(asPostfixReadsThem.count); "
            + "\(Set(proxy.commandEvents().map { "\($0["verb"] ?? "-") \($0["action"] ?? "-") \($0["rule"] ?? "-")" }))"))
        print("differential (command framing): \(variants.count) spellings of VRFY/EXPN in \(sessions) pipelined sessions; "
            + "\(asPostfixReadsThem.count) are VRFY/EXPN to Postfix and were refused by the rule, the rest refused as malformed or unknown; "
            + "\(leaked.count) reached Postfix")
        await proxy.stop()
    }
}
