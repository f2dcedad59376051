import SMTPCore

/// `smtp-inspect replay FILE...` without the argument parsing: replays each file in turn and
/// writes the report; the CLI and the tests both call it.
///
///     let run = ReplayRun(files: ["a.pcap", "b.pcapng"], options: ReplayOptions(policy: rules), format: .json)
///     let status = run.run(write: { stdout.write($0) }, report: { stderr.write($0) })
///     // 0, or 2 when a file was missing, not a capture, truncated or corrupt
///
/// A file that cannot be read completely costs one line on `report` (`path: reason`); the
/// sessions read before the damage are still reported and the other files still replayed.
/// With `showProgress`, files of at least `largeFileSize` bytes report their progress on
/// `report` as a line that rewrites itself (`\r`), erased when the file is done.
public struct ReplayRun: Sendable {
    public var files: [String]
    public var options: ReplayOptions
    public var format: ReplayFormat
    public var showProgress: Bool
    public var largeFileSize: Int64 = 16 << 20

    public init(files: [String], options: ReplayOptions = ReplayOptions(), format: ReplayFormat, showProgress: Bool = false) {
        self.files = files
        self.options = options
        self.format = format
        self.showProgress = showProgress
    }

    /// Replays every file; returns the exit status (0 success, 2 unreadable input).
    public func run(write: (String) -> Void, report: (String) -> Void) -> Int32 {
        var status: Int32 = 0
        for path in files {
            let replay = CaptureReplay(path: path, options: options)
            var table = SessionTableRenderer()
            var text = ""
            var lines: [UInt8] = []
            let emit: ([AuditEvent]) -> Void = { events in
                text.removeAll(keepingCapacity: true)
                switch format {
                case .json:
                    lines.removeAll(keepingCapacity: true)
                    AuditEvent.appendJSONLines(events, to: &lines)
                    text = String(decoding: lines, as: UTF8.self)
                case .table:
                    for event in events {
                        if let block = table.consume(event) { text += block }
                    }
                }
                if !text.isEmpty { write(text) }
            }
            var progressShown = false
            let progress: (ReplayProgress) -> Void = { value in
                guard showProgress, let total = value.totalBytes, total >= largeFileSize, let percent = value.percent else { return }
                progressShown = true
                report("\rreplay: \(value.path) \(percent)% (\(value.packets) packets)\u{1B}[K")
            }
            var summary: ReplaySummary?
            do {
                summary = try replay.run(emit: emit, progress: progress)
            } catch {
                summary = error.summary
                if progressShown { report("\r\u{1B}[K") }
                progressShown = false
                report("smtp-inspect: \(error.description)\n")
                status = 2
            }
            if progressShown { report("\r\u{1B}[K") }
            if format == .table {
                let rest = table.finishAll().joined()
                if let summary {
                    write(rest + summary.description + "\n")
                } else if !rest.isEmpty {
                    write(rest)
                }
            }
        }
        return status
    }
}
