import IPAddressing
import SMTPCore
import SMTPFilters
import Testing

/// Valid rule files and what they parse to.
@Suite struct RuleFileTests {
    @Test(arguments: [
        "",
        "# only a comment\n\n   # and another\n",
        "---\n",
        "~\n",
        "settings:\nrules:\n",
        "rules: []\n",
        "settings: {}\n",
    ])
    func emptyFilesHaveNoRules(yaml: String) throws {
        let file = try RuleFile(parsing: yaml, path: "empty.yaml")
        #expect(file.rules.isEmpty)
        #expect(file.settings == RuleFileSettings())
    }

    @Test func parsesTheSpecExample() throws {
        let file = try RuleFile(parsing: specExample, path: "spec.yaml")
        #expect(file.settings == RuleFileSettings(
            banner: "mx.example.org ESMTP", maxLineLength: 1000, maxRecipients: 100,
            maxMessageSize: 26_214_400, bareNewline: .normalize))
        #expect(file.rules.map(\.name) == ["no-vrfy", "hide-exchange", "legacy-sender", "audit-auth", "blocked-net"])
        #expect(file.rules.map(\.action) == [.reject, .strip, .rewrite, .log, .disconnect])
        #expect(file.rules.map(\.kind) == [.command, .ehloKeyword, .command, .command, .command])
        #expect(file.rules.map { $0.location?.description } == [
            "spec.yaml:9", "spec.yaml:13", "spec.yaml:16", "spec.yaml:21", "spec.yaml:24",
        ])

        let noVrfy = file.rules[0]
        #expect(noVrfy.command == .verbs([.vrfy, .expn]))
        #expect(noVrfy.reply == SMTPReply(code: 502, "5.5.1 VRFY and EXPN are disabled"))
        #expect(file.rules[1].ehloKeywords == ["X-EXCH50", "XEXCH50", "X-LINK2STATE"])
        #expect(file.rules[2].argument?.source == #"(?i)^FROM:<([^@>]+)@legacy\.example>"#)
        #expect(file.rules[2].replace?.source == "FROM:<$1@example.org>")
        let blocked = try CIDR(parsing: "203.0.113.0/24")
        #expect(file.rules[4].clients == [blocked])
        #expect(file.rules[4].command == .any)
    }

    @Test func acceptsScalarsAndListsAlike() throws {
        let file = try RuleFile(parsing: """
            rules:
              - name: one
                command: vrfy
                client: 192.0.2.1
                action: reject
              - name: flow
                command: [VRFY]
                client: [192.0.2.0/24, "2001:db8::/32"]
                action: reject
              - name: replies
                reply-code: [550, "5xx", 4XX]
                action: log
              - name: keyword
                ehlo-keyword: chunking
                action: strip
            settings:
              limits:
                max-message-size: 52_428_800
            """, path: "t.yaml")
        #expect(file.rules[0].command == .verbs([.vrfy]))
        #expect(file.rules[0].clients.map(\.description) == ["192.0.2.1/32"])
        #expect(file.rules[1].clients.map(\.description) == ["192.0.2.0/24", "2001:db8::/32"])
        #expect(file.rules[2].replyCodes == [.code(550), .codeClass(5), .codeClass(4)])
        #expect(file.rules[2].kind == .replyCode)
        #expect(file.rules[3].ehloKeywords == ["CHUNKING"])
        #expect(file.settings.maxMessageSize == 52_428_800)
    }

    @Test func aRuleWithoutMatchKeysIsACommandRuleForEveryVerb() throws {
        let file = try RuleFile(parsing: "rules:\n  - {name: everything, action: log}\n", path: "t.yaml")
        #expect(file.rules[0].kind == .command)
        #expect(file.rules[0].command == .any)
    }

    let specExample = """
        settings:                       # optional
          banner: "mx.example.org ESMTP"  # replaces the text of the server's 220 greeting
          limits:
            max-line-length: 1000
            max-recipients: 100
            max-message-size: 26214400
          bare-newline: normalize
        rules:
          - name: no-vrfy
            command: [VRFY, EXPN]
            action: reject
            reply: "502 5.5.1 VRFY and EXPN are disabled"
          - name: hide-exchange
            ehlo-keyword: [X-EXCH50, XEXCH50, X-LINK2STATE]
            action: strip
          - name: legacy-sender
            command: MAIL
            argument: '(?i)^FROM:<([^@>]+)@legacy\\.example>'
            action: rewrite
            replace: 'FROM:<$1@example.org>'
          - name: audit-auth
            command: AUTH
            action: log
          - name: blocked-net
            client: [203.0.113.0/24]
            command: "*"
            action: disconnect
        """
}
