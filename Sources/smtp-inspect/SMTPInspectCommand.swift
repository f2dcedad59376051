import ArgumentParser
import Foundation

/// `smtp-inspect`: the root command. It only parses arguments and maps outcomes to exit codes
/// (SPEC §2: 0 success, 1 runtime failure, 2 bad usage / invalid configuration / unreadable input);
/// the work is done by the libraries, which the tests call directly.
@main
struct SMTPInspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smtp-inspect",
        abstract: "A transparent SMTP inspecting proxy.",
        discussion: """
            smtp-inspect sits between an SMTP client and an upstream SMTP server and runs both \
            byte streams through one SMTP parser and session model. Rules loaded from YAML files \
            (see docs/rule-files.md) decide, command by command, to forward, log, rewrite or \
            reject, and can strip EHLO capabilities from the server's reply; every decision goes \
            to a structured audit log. The same engine replays recorded captures offline.

            Exit status: 0 success, 1 runtime failure, 2 bad usage, invalid configuration or \
            unreadable input.
            """,
        subcommands: [ProxyCommand.self, ReplayCommand.self, CheckCommand.self, ReportCommand.self]
    )

    /// As `AsyncParsableCommand.main()`, except that usage errors exit with 2 (SPEC §2) rather
    /// than ArgumentParser's 64 (EX_USAGE).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                exit(withError: ExitCode(2))
            }
            exit(withError: error)
        }
    }
}
