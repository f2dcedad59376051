import Foundation
import SMTPFilters
import SMTPReplay
import SMTPReport
import Testing

/// A scratch directory for report tests (removed afterwards), and the built `smtp-inspect report`
/// run as an operator runs it.
final class ReportWorkspace {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "smtp-inspect-report-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String) -> String { path + "/" + name }

    static func capture(_ name: String) -> String { ProxyHarness.repositoryRoot + "/captures/" + name }

    /// `smtp-inspect report ARGUMENTS -o NAME`; the page's path, after checking the exit status is 0.
    func report(_ arguments: [String], name: String = "report.html", sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let output = file(name)
        let run = try ProxyProcess.runToExit(["report"] + arguments + ["-o", output], timeout: 300)
        #expect(run.status == 0, "report exited \(String(describing: run.status)): \(run.error)", sourceLocation: sourceLocation)
        return output
    }

    /// The audit events the replay engine makes of a shipped capture (what the page must show).
    static func replayEvents(_ capture: String, filters: Bool = true) throws -> [LoggedEvent] {
        var options = ReplayOptions()
        if filters { options.policy = try RuleSet.load(paths: [ProxyHarness.shippedFilters]) }
        return try ReportInputReader(options: options).events(of: Self.capture(capture))
    }
}

/// How many times `needle` occurs in `text`.
func occurrences(of needle: String, in text: String) -> Int {
    text.components(separatedBy: needle).count - 1
}
