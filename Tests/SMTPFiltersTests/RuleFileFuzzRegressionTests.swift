import SMTPFilters
import Testing

/// Inputs the rule-loader fuzz target (`Fuzzing/`, FuzzRuleLoader) stopped on.
@Suite struct RuleFileFuzzRegressionTests {
    /// crash-9f21c752…: filters/20-reconnaissance.yaml with a run of bare CRs in a comment gave
    /// `fuzz.yaml:46:` in a file of 37 LF-ended lines. Not a loader bug: YAML (and libyaml's marks)
    /// count CR, LF and CRLF each as one line end, so the target now counts lines the same way.
    /// Kept so that the numbering stays what YAML says and the file still loads without a trap.
    @Test func bareCRsCountAsLineEndsInProblemLines() {
        let text = "# comment\r\r\rrules:\n  - name: x\n    command: VRFY\n    action: rVeject\n"
        do {
            _ = try RuleFile(parsing: text, path: "f.yaml")
            Issue.record("an unknown action loaded")
        } catch {
            #expect(error.problems.map(\.line) == [7])
        }
    }
}
