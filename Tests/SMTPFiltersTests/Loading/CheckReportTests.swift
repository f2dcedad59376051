import TestSupport
import Foundation
import SMTPCore
@testable import SMTPFilters
import Testing

/// Reading paths: files, directories, order, and problems across files.
@Suite struct CheckReportTests {
    @Test func readsADirectoryInNameOrderSkippingOtherFiles() throws {
        let directory = try TemporaryDirectory()
        try directory.write("b.yaml", "rules:\n  - {name: from-b, action: log}\n")
        try directory.write("a.yml", "rules:\n  - {name: from-a, action: log}\n")
        try directory.write("10-x.yaml", "rules:\n  - {name: from-10, action: log}\n")
        try directory.write("9-x.yaml", "rules:\n  - {name: from-9, action: log}\n")
        try directory.write("B-upper.yaml", "rules:\n  - {name: from-upper, action: log}\n")
        try directory.write("notes.txt", "not: [rules")
        try directory.write("README.md", "# hi")
        try directory.write(".hidden.yaml", "not: [rules")
        try directory.write("c.yaml.orig", "not: [rules")
        try directory.write("nested/d.yaml", "rules:\n  - {name: from-nested, action: log}\n")
        _ = try directory.makeDirectory("dir.yaml")

        let report = CheckReport(paths: [directory.path])
        #expect(report.problems == [])
        #expect(report.files.map { String($0.dropFirst(directory.path.count + 1)) }
            == ["10-x.yaml", "9-x.yaml", "B-upper.yaml", "a.yml", "b.yaml"])
        let rules = try #require(report.ruleSet)
        #expect(rules.rules.map(\.name) == ["from-10", "from-9", "from-upper", "from-a", "from-b"])
        #expect(rules.decide(Fixtures.command("NOOP"), client: Fixtures.client()).loggedBy
            == ["from-10", "from-9", "from-upper", "from-a", "from-b"])
    }

    @Test func pathsLoadInTheOrderGiven() throws {
        let directory = try TemporaryDirectory()
        let late = try directory.write("late/00.yaml", "rules:\n  - {name: late, command: VRFY, action: allow}\n")
        let early = try directory.write("early.yaml", "rules:\n  - {name: early, command: VRFY, action: reject}\n")
        let rules = try RuleSet.load(paths: [early, directory.path + "/late/"])
        #expect(rules.decide(Fixtures.command("VRFY"), client: Fixtures.client()).rule == "early")
        let reversed = try RuleSet.load(paths: [late, early])
        #expect(reversed.decide(Fixtures.command("VRFY"), client: Fixtures.client()).rule == "late")
    }

    @Test func mergesSettingsAcrossFiles() throws {
        let directory = try TemporaryDirectory()
        try directory.write("10-a.yaml", """
            settings:
              banner: "first ESMTP"
              limits: {max-line-length: 4096, max-recipients: 100}
              bare-newline: reject
            """)
        try directory.write("20-b.yaml", """
            settings:
              banner: "second ESMTP"
              limits: {max-line-length: 2048, max-message-size: 1048576}
              bare-newline: normalize
            """)
        try directory.write("30-c.yaml", "settings:\n  limits:\n    max-recipients: 500\n")
        let rules = try RuleSet.load(paths: [directory.path])
        #expect(rules.settings == PolicySettings(
            banner: "second ESMTP", maxLineLength: 2048, maxRecipients: 100, maxMessageSize: 1_048_576,
            bareNewline: .reject))
    }

    @Test func collectsEveryProblemOfEveryFile() throws {
        let directory = try TemporaryDirectory()
        try directory.write("10-a.yaml", "rules:\n  - name: shared\n    action: log\n  - name: a\n    action: rejct\n")
        try directory.write("20-b.yaml", "rules:\n  - name: ok\n    action: log\n  - name: shared\n    action: log\n")
        try directory.write("30-c.yaml", "rules: [\n")
        let missing = directory.path + "/missing.yaml"
        let prefix = directory.path + "/"

        let report = CheckReport(paths: [directory.path, missing])
        #expect(!report.isValid)
        #expect(report.ruleSet == nil)
        #expect(report.problems.map(\.description) == [
            "\(prefix)10-a.yaml:5: unknown action 'rejct' (did you mean 'reject'?)",
            "\(prefix)20-b.yaml:4: duplicate rule name 'shared' (first defined at \(prefix)10-a.yaml:2)",
            "\(prefix)30-c.yaml:2: invalid YAML: did not find expected node content (while parsing a flow node at line 2)",
            "\(missing): no such file or directory",
        ])
        #expect(report.summary == "\(directory.path) \(missing): 3 files, 4 rules, 4 problems")

        #expect(throws: FilterError.List(report.problems)) { try RuleSet.load(paths: [directory.path, missing]) }
    }

    @Test func summaries() throws {
        let directory = try TemporaryDirectory()
        let one = try directory.write("one.yaml", "rules:\n  - {name: x, action: log}\n")
        #expect(CheckReport(paths: [one]).summary == "\(one): 1 file, 1 rule, OK")
        let empty = try directory.makeDirectory("empty")
        #expect(CheckReport(paths: [empty]).summary == "\(empty): 0 files, 0 rules, OK")
        #expect(CheckReport(paths: [empty]).ruleSet?.rules.isEmpty == true)
    }

    @Test func refusesTheSameFileTwice() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("10-a.yaml", "rules:\n  - {name: x, action: log}\n")
        let report = CheckReport(paths: [directory.path, directory.path + "/./10-a.yaml"])
        #expect(report.problems.map(\.description) == [
            "\(directory.path)/./10-a.yaml: named more than once among the paths",
        ])
        #expect(report.files == [file])
    }

    @Test func aFileNamedExplicitlyNeedNotEndInYaml() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("rules.conf", "rules:\n  - {name: x, action: log}\n")
        #expect(CheckReport(paths: [file]).isValid)
    }

    @Test func refusesTextThatIsNotUTF8() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("latin1.yaml", Array("rules:\n  - name: caf".utf8) + [0xE9] + Array("\n".utf8))
        #expect(CheckReport(paths: [file]).problems.map(\.description) == ["\(file):2: not UTF-8 text"])
    }

    @Test(arguments: [
        ([UInt8](), nil as Int?),
        (Array("a\nb\n".utf8), nil),
        (Array("é\n€\n".utf8), nil),
        ([0x61, 0x0A, 0x0A, 0xFF], 3),
        ([0xC3], 1),
    ])
    func findsTheLineOfInvalidUTF8(bytes: [UInt8], line: Int?) {
        #expect(CheckReport.firstInvalidUTF8Line(in: bytes) == line)
    }
}
