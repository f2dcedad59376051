import SMTPFilters
import Testing

@Suite struct ReplacementTemplateTests {
    @Test(arguments: [
        ("(?i)^FROM:<([^@>]+)@legacy\\.example>", "FROM:<$1@example.org>", "FROM:<Bob@LEGACY.example> SIZE=10",
         "FROM:<Bob@example.org> SIZE=10"),
        ("^TO:<(?<user>[^@]+)@(?<domain>[^>]+)>", "TO:<${user}+${domain}@relay.example>", "TO:<a@b.example>",
         "TO:<a+b.example@relay.example>"),
        ("^(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)", "${10}$9$1", "abcdefghij", "jia"),
        ("^(\\d+)", "$$$1", "42 rest", "$42 rest"),
        ("^(x)?y", "[$1]", "y", "[]"),  // a group that did not take part expands to nothing
        ("b", "$0$0", "abc", "abbc"),
        ("b", "", "abc", "ac"),
    ])
    func rewrites(pattern: String, template: String, input: String, output: String) throws {
        let regex = try ArgumentPattern(pattern)
        let replacement = try ReplacementTemplate(template)
        #expect(replacement.problem(with: regex) == nil)
        #expect(try regex.replacingFirstMatch(in: input, with: replacement) == output)
    }

    @Test(arguments: ["$", "a$", "$x", "${}", "${a-b}", "${1x}", "${unclosed"])
    func refusesBadReferences(template: String) {
        #expect(throws: FilterError.self) { try ReplacementTemplate(template) }
    }

    @Test(arguments: [
        ("^(a)", "$2", "'replace' refers to group 2, but the 'argument' regex has 1 group"),
        ("^a", "$1", "'replace' refers to group 1, but the 'argument' regex has 0 groups"),
        ("^(?<user>a)", "${usr}", "'replace' refers to group 'usr', but the 'argument' regex has no (?<usr>…)"),
    ])
    func reportsMissingGroups(pattern: String, template: String, problem: String) throws {
        #expect(try ReplacementTemplate(template).problem(with: ArgumentPattern(pattern)) == problem)
    }
}
