@testable import SMTPFilters
import Testing

@Suite struct ArgumentPatternTests {
    @Test(arguments: [
        ("^FROM:<", "FROM:<a@b>", true),
        ("legacy\\.example>", "FROM:<a@legacy.example> SIZE=1", true),  // found anywhere
        ("^SIZE", "FROM:<a@b> SIZE=1", false),
        ("(?i)^from:", "FROM:<a@b>", true),
        ("^from:", "FROM:<a@b>", false),  // case-sensitive unless (?i)
        ("^$", "", true),
    ])
    func matches(pattern: String, text: String, expected: Bool) throws {
        #expect(try ArgumentPattern(pattern).matches(text) == expected)
    }

    @Test(arguments: ["([a-", "(unclosed", "a{2,1}", "(?<n>a)(?<n>b)", "*"])
    func refusesInvalidRegex(pattern: String) {
        #expect(throws: FilterError.self) { try ArgumentPattern(pattern) }
    }

    @Test(arguments: [
        ("abc", 0),
        ("(a)(b)", 2),
        ("(?:a)(b)", 1),
        ("(?<user>[^@]+)@(?<domain>.+)", 2),
        ("(?i)(a)", 1),
        ("(?=a)(?!b)(e)", 1),
        ("\\(a\\)(b)", 1),
        ("[(](a)[)]", 1),
        ("[()](a)", 1),
        ("[^()](a)", 1),
        ("\\Q(a)\\E(b)", 1),
        ("[[:alpha:](](x)", 1),
        ("(?P<n>a)(?'m'b)", 2),
    ])
    func countsCaptureGroups(pattern: String, count: Int) throws {
        #expect(try ArgumentPattern(pattern).captureGroupCount == count)
    }

    @Test func replacesOnlyTheFirstMatch() throws {
        let pattern = try ArgumentPattern("o")
        let template = try ReplacementTemplate("0")
        #expect(try pattern.replacingFirstMatch(in: "foo boo", with: template) == "f0o boo")
        #expect(try pattern.replacingFirstMatch(in: "xyz", with: template) == nil)
    }
}
