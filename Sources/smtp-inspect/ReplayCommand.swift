import ArgumentParser
import Foundation
import SMTPCore
import SMTPFilters
import SMTPReplay

/// `smtp-inspect replay FILE... [--filters PATH]... [--format table|json]`: runs captured SMTP
/// sessions through the engine and the rules, offline (SPEC §6).
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay pcap/pcapng captures through the engine and the rules.",
        discussion: """
            Reads each capture with libpcap (Ethernet, Linux cooked SLL/SLL2, raw IP and \
            loopback link types; IPv4 and IPv6), reassembles every TCP connection, finds the SMTP \
            sessions on any port by their content, and feeds both directions, in capture order, \
            through the same engine and rules as the live proxy. Missing bytes are reported as \
            content-gap anomalies and end that session's replay; they are never guessed.

            --format json prints the audit events (one JSON object per line); --format table a \
            summary per session. The default is table when standard output is a terminal, json \
            otherwise.

            Exit status: 0 success; 2 invalid rules, or a capture that is missing, not a \
            capture, truncated or corrupt (the sessions read before the damage are still \
            reported, and the other files still replayed).
            """
    )

    @Argument(help: ArgumentHelp("Capture files (pcap or pcapng; - for standard input).", valueName: "file"))
    var files: [String]

    @Option(name: .customLong("filters"), help: ArgumentHelp("A rule file or a directory of rule files; repeatable.", valueName: "path"))
    var filters: [String] = []

    @Option(help: ArgumentHelp("table or json (default: table on a terminal, else json).", valueName: "format"))
    var format: ReplayFormat?

    func run() throws {
        var policy: any InspectionPolicy = NoRules()
        if !filters.isEmpty {
            do {
                policy = try RuleSet.load(paths: filters)
            } catch {
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
                throw ExitCode(2)
            }
        }
        // A closed pipe (`replay … | head`) must end the output, not the process.
        signal(SIGPIPE, SIG_IGN)
        let output = FileDescriptorWriter(descriptor: STDOUT_FILENO)
        let diagnostics = FileDescriptorWriter(descriptor: STDERR_FILENO, capacity: 0)
        let run = ReplayRun(
            files: files,
            options: ReplayOptions(policy: policy),
            format: format ?? (output.isTerminal ? .table : .json),
            showProgress: diagnostics.isTerminal
        )
        let status = run.run(write: { output.write($0) }, report: { diagnostics.write($0) })
        output.flush()
        diagnostics.flush()
        if status != 0 { throw ExitCode(status) }
    }
}

extension ReplayFormat: ExpressibleByArgument {}
