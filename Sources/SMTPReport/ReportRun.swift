import Foundation
import SMTPReplay

/// `smtp-inspect report INPUT... -o FILE` without the argument parsing: reads every input (audit
/// log or capture, told apart by content), groups the events into sessions and writes the page.
///
///     let run = ReportRun(inputs: ["audit.jsonl", "captures/x.pcap"], output: "report.html")
///     let summary = try run.run()   // throws ReportError: one line, exit 2
public struct ReportRun: Sendable {
    public var inputs: [String]
    public var output: String
    public var options: ReplayOptions

    public init(inputs: [String], output: String, options: ReplayOptions = ReplayOptions()) {
        self.inputs = inputs
        self.output = output
        self.options = options
    }

    /// What was written.
    public struct Summary: Sendable, Equatable {
        public var sessions: Int
        public var events: Int
        public var bytes: Int
    }

    @discardableResult
    public func run() throws(ReportError) -> Summary {
        guard !inputs.isEmpty else { throw ReportError("no input: name an audit log or a capture") }
        let reader = ReportInputReader(options: options)
        var events: [LoggedEvent] = []
        for input in inputs {
            events += try reader.events(of: input)
        }
        let sessions = SessionGrouping.sessions(from: events)
        let html = ReportPage(inputs: inputs, sessions: sessions).html()
        let data = Data(html.utf8)
        let directory = URL(fileURLWithPath: output).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ReportError("\(output): cannot write (no such directory: \(directory))")
        }
        do {
            try data.write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw ReportError("\(output): cannot write (\(error.localizedDescription))")
        }
        return Summary(sessions: sessions.count, events: events.count, bytes: data.count)
    }
}
