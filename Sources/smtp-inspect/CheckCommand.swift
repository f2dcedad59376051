import ArgumentParser
import Foundation
import SMTPFilters

/// `smtp-inspect check PATH...`: validates rule files without starting anything.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate rule files.",
        discussion: """
            Loads every rule file as the proxy would, and prints each problem as \
            'file:line: message' on standard error. A directory stands for its *.yaml and *.yml \
            files, read in name order (not recursively); rule names must be unique across all \
            paths together. When everything is valid, prints a one-line summary on standard \
            output, e.g. 'filters/: 3 files, 6 rules, OK'.

            Exit status: 0 valid, 2 invalid rules or an unreadable path.
            """
    )

    @Argument(help: ArgumentHelp("Rule files or directories of rule files.", valueName: "path"))
    var paths: [String]

    func run() throws {
        let report = CheckReport(paths: paths)
        guard report.isValid else {
            var output = report.problems.map { "\($0)\n" }.joined()
            output += "\(report.summary)\n"
            FileHandle.standardError.write(Data(output.utf8))
            throw ExitCode(2)
        }
        print(report.summary)
    }
}
