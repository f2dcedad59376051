/// `smtp-inspect replay FILE... --to HOST:PORT` without the argument parsing: reads each
/// capture, re-sends every SMTP session in it (`LiveResender`) as soon as the capture has shown
/// it whole, and writes the report (`ResendReportRenderer`); the CLI and the tests both call it.
///
///     let run = ResendRun(files: ["captures/swaks-plain.pcap"], resender: LiveResender(host: "127.0.0.1", port: 2525), format: .table)
///     let status = run.run(write: { print($0, terminator: "") }, report: { FileHandle.standardError.write($0) })
///
/// Exit status: 0 when every session got the same reply codes, 1 when any differed (or the
/// target could not be reached), 2 when a file was missing, not a capture, truncated or corrupt
/// (the sessions read before the damage are still re-sent and reported).
public struct ResendRun: Sendable {
    public var files: [String]
    public var resender: LiveResender
    public var format: ReplayFormat
    public var renderer = ResendReportRenderer()

    public init(files: [String], resender: LiveResender, format: ReplayFormat) {
        self.files = files
        self.resender = resender
        self.format = format
    }

    public func run(write: (String) -> Void, report: (String) -> Void) -> Int32 {
        var status: Int32 = 0
        for path in files {
            var sessions = 0
            var differing = 0
            do {
                var reader = ConversationReader(path: path)
                reader.followsSTARTTLS = resender.tls != nil
                try reader.run { conversation in
                    let result = resender.resend(conversation)
                    sessions += 1
                    if !result.matches { differing += 1 }
                    write(renderer.render(result, format: format))
                }
            } catch {
                report("smtp-inspect: \(error.description)\n")
                status = 2
            }
            if differing > 0 { status = max(status, 1) }
            if format == .table {
                write(renderer.fileSummary(path: path, target: resender.target, sessions: sessions, differing: differing))
            }
        }
        return status
    }
}
