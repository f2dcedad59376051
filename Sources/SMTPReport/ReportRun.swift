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
        var seen: Set<String> = []
        for input in inputs {
            var (batch, isCapture) = try reader.read(input)
            // Logs merge by session id (a session may span rotated files); a capture's ids are
            // its file name and a number, so two captures of the same name would merge: the
            // later one's sessions are called by their path instead.
            if isCapture, batch.contains(where: { seen.contains($0.session) }) {
                for index in batch.indices {
                    batch[index].session = input + "#" + (batch[index].session.split(separator: "#").last.map(String.init) ?? "")
                }
            }
            for event in batch { seen.insert(event.session) }
            events += batch
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
