import ArgumentParser
import Foundation
import SMTPCore
import SMTPFilters
import SMTPReplay
import SMTPReport

/// `smtp-inspect report INPUT... -o report.html [--filters PATH]...`: one self-contained HTML page
/// of every session in audit logs and captures. The work is `ReportRun`.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an HTML audit report of audit logs and captures.",
        discussion: """
            Each INPUT is a JSON-lines audit log (proxy --log, replay --format json) or a \
            pcap/pcapng capture, told apart by content. A capture is first replayed through \
            the engine and the --filters rules (as smtp-inspect replay does); an audit log is \
            shown as it was logged (--filters does not change it).

            The page is one file with inline CSS, SVG and script; it fetches nothing and opens \
            from disk. Overview: sessions, messages, bytes and time span; top senders, \
            recipients and client addresses; commands by verb and action, rule hits, reply \
            classes and anomalies as bar charts (click a bar to search for it). Sessions: a \
            paged list searchable by address, sender, recipient, rule, anomaly and reply class, \
            and for the selected session a ladder diagram (client, smtp-inspect, server): one \
            arrow per command and reply; a rejected command stops at the proxy with the rule \
            that refused it; a rewritten one shows what was forwarded; stripped EHLO keywords \
            are crossed out; anomalies are flagged in place; a message body is one bar with \
            its size. Message content and AUTH secrets are never in the page. \
            report.html#session=ID opens a session directly.

            Exit status: 0 success; 2 bad arguments, invalid rules, or an input that is \
            missing, neither a log nor a capture, has a line that is not an audit event, or is \
            a damaged capture.

            Examples:
              smtp-inspect report /var/log/smtp-inspect/audit.jsonl -o report.html
              smtp-inspect report captures/*.pcap --filters filters/ -o report.html
            """
    )

    @Argument(help: ArgumentHelp("Audit logs (JSON lines) and captures (pcap, pcapng).", valueName: "input"))
    var inputs: [String]

    @Option(name: .shortAndLong, help: ArgumentHelp("The HTML file to write.", valueName: "file"))
    var output: String

    @Option(name: .customLong("filters"), help: ArgumentHelp("Rules for captures: a file or directory; repeatable.", valueName: "path"))
    var filters: [String] = []

    @Option(help: ArgumentHelp("For captures: passthrough (default), strip or terminate, as in replay.", valueName: "mode"))
    var tls: String = "passthrough"

    func validate() throws {
        guard TLSMode(rawValue: tls) != nil else {
            throw ValidationError("--tls: expected passthrough, strip or terminate, got '\(tls)'")
        }
    }

    func run() throws {
        var policy: any InspectionPolicy = NoRules()
        if !filters.isEmpty {
            do {
                policy = try RuleSet.load(paths: filters)
            } catch {
                throw fail(error.description)
            }
        }
        let run = ReportRun(
            inputs: inputs, output: output,
            options: ReplayOptions(policy: policy, tlsMode: TLSMode(rawValue: tls) ?? .passthrough))
        do {
            let summary = try run.run()
            FileHandle.standardError.write(Data("smtp-inspect: \(output): \(summary.sessions) sessions, \(summary.bytes) bytes\n".utf8))
        } catch {
            throw fail(error.description)
        }
    }

    /// Bad input: one line on standard error, exit status 2.
    private func fail(_ reason: String) -> ExitCode {
        FileHandle.standardError.write(Data("smtp-inspect: \(reason)\n".utf8))
        return ExitCode(2)
    }
}
