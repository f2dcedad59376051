import SMTPFilters
import Testing

@Suite struct ReplyCodePatternTests {
    @Test(arguments: [
        ("250", ReplyCodePattern.code(250)),
        ("599", .code(599)),
        ("5xx", .codeClass(5)),
        ("4XX", .codeClass(4)),
        ("2xx", .codeClass(2)),
    ])
    func parses(text: String, expected: ReplyCodePattern) throws {
        #expect(try ReplyCodePattern(parsing: text) == expected)
    }

    @Test(arguments: ["199", "600", "25", "2500", "6xx", "1xx", "5x", "x50", "abc", ""])
    func refuses(text: String) {
        #expect(throws: FilterError.self) { try ReplyCodePattern(parsing: text) }
    }

    @Test(arguments: [
        (ReplyCodePattern.code(550), 550, true),
        (.code(550), 551, false),
        (.codeClass(5), 554, true),
        (.codeClass(5), 450, false),
        (.codeClass(4), 421, true),
    ])
    func matches(pattern: ReplyCodePattern, code: Int, expected: Bool) {
        #expect(pattern.matches(code) == expected)
    }
}
