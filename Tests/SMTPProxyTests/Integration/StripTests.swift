import Foundation
import Testing

/// SPEC §3 `strip` and §4 "EHLO replies": keywords Postfix really advertises are removed from its
/// EHLO reply, the reply is re-framed, and the stripped verbs and parameters are refused — BDAT's
/// chunk is swallowed, never read as commands, and never reaches Postfix.
@Suite(.serialized) struct StripTests {
    let postfix: PostfixInstance

    init() throws {
        postfix = try DedicatedPostfix.instance("strip")
    }

    /// Postfix's own EHLO reply, asked directly.
    private func directEHLO() throws -> String {
        let mark = postfix.quiescentMark()
        let direct = try RawSMTPClient(port: postfix.port)
        let (_, ehlo) = try direct.open()
        _ = try direct.command("QUIT")
        // Its log lines may trail the replies: let them in before the test takes its own mark.
        postfix.waitForSessions(since: mark)
        return ehlo
    }

    @Test func strippedKeywordsLeaveAWellFramedEHLOReplyAndTheirVerbsAreRefused() async throws {
        let direct = try directEHLO()
        let advertised = ehloKeywords(direct)
        // Postfix 3.7 ends its reply with CHUNKING: stripping it re-frames the last line.
        try #require(advertised.last == "CHUNKING", "Postfix's EHLO changed: \(direct)")
        try #require(advertised.contains("ETRN") && advertised.contains("DSN"), "\(direct)")
        let rules = """
            rules:
              - name: no-chunking
                ehlo-keyword: CHUNKING
                action: strip
              - name: no-etrn-dsn
                ehlo-keyword: [ETRN, DSN]
                action: strip
            """
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: rules)
        defer { Task { await proxy.stop() } }
        let client = try RawSMTPClient(port: proxy.port)
        let (_, ehlo) = try client.open()
        #expect(isWellFramed(ehlo), "badly framed EHLO reply: \(ehlo)")
        #expect(ehloKeywords(ehlo) == advertised.filter { !["CHUNKING", "ETRN", "DSN"].contains($0) }, "\(ehlo)")
        #expect(ehlo.hasPrefix("250-upstream.test\r\n"))

        // The stripped verb ETRN and the stripped parameter RET= (DSN) are refused by the proxy.
        #expect(try client.command("ETRN example.org").hasPrefix("502 5.5.1"))
        #expect(try client.command("MAIL FROM:<alice@example.net> RET=HDRS").hasPrefix("555 5.5.4"))
        // BDAT's chunk looks like commands; it must be counted and dropped, never parsed.
        let chunk = "RSET\r\nQUIT\r\n"
        try client.send("MAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\nBDAT \(chunk.utf8.count) LAST\r\n\(chunk)NOOP\r\n")
        let replies = try client.readReplies(4)
        #expect(replies[0].hasPrefix("250 "), "MAIL: \(replies[0])")
        #expect(replies[1].hasPrefix("250 "), "RCPT: \(replies[1])")
        #expect(replies[2].hasPrefix("502 5.5.1"), "BDAT: \(replies[2])")
        #expect(replies[3].hasPrefix("250 "), "NOOP after the swallowed chunk: \(replies[3])")
        #expect(try client.command("QUIT").hasPrefix("221 "))
        proxy.waitForSessionEnds(1)

        let ehloReply = try #require(proxy.events("reply").first { $0["for"] as? String == "EHLO" })
        let stripped = (ehloReply["stripped"] as? [[String: Any]]) ?? []
        #expect(Set(stripped.compactMap { $0["keyword"] as? String }) == ["CHUNKING", "ETRN", "DSN"])
        #expect(stripped.first { $0["keyword"] as? String == "CHUNKING" }?["rule"] as? String == "no-chunking")
        #expect(stripped.allSatisfy { $0["action"] as? String == "strip" })
        let bdat = try #require(proxy.commandEvent("BDAT"))
        #expect(bdat["action"] as? String == "reject")
        #expect(bdat["rule"] as? String == "no-chunking")
        #expect(proxy.commandEvent("RSET") == nil, "the chunk was read as commands")
        #expect(proxy.anomalyKinds().contains("stripped-keyword-used"))

        // Postfix saw one MAIL (the RET= one was refused), no ETRN, no BDAT, one QUIT.
        let statistics = PostfixInstance.commandStatistics(postfix.waitForSessions(since: mark))
        #expect(statistics.count == 1, "\(statistics)")
        let proxied = try #require(statistics.last)
        #expect(proxied["bdat"] == nil && proxied["etrn"] == nil && proxied["rset"] == nil, "\(proxied)")
        #expect(proxied["mail"] == "1" && proxied["rcpt"] == "1" && proxied["noop"] == "1" && proxied["quit"] == "1", "\(proxied)")
    }

    @Test func strippingAMiddleKeywordKeepsTheFraming() async throws {
        let advertised = ehloKeywords(try directEHLO())
        let rules = """
            rules:
              - name: no-vrfy-keyword
                ehlo-keyword: VRFY
                action: strip
            """
        let mark = postfix.quiescentMark()
        let proxy = try await ProxyHarness(upstreamPort: postfix.port, rules: rules)
        defer { Task { await proxy.stop() } }
        let client = try RawSMTPClient(port: proxy.port)
        let (_, ehlo) = try client.open()
        #expect(isWellFramed(ehlo), "\(ehlo)")
        #expect(ehloKeywords(ehlo) == advertised.filter { $0 != "VRFY" })
        #expect(ehlo.hasSuffix("250 CHUNKING\r\n"))
        #expect(try client.command("VRFY bob").hasPrefix("502 "))
        #expect(try client.command("QUIT").hasPrefix("221 "))
        let statistics = try #require(PostfixInstance.commandStatistics(postfix.waitForSessions(since: mark)).first)
        #expect(statistics["vrfy"] == nil, "\(statistics)")
    }
}
