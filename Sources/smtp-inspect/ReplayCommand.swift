import ArgumentParser
import Foundation
import SMTPCore
import SMTPFilters
import SMTPProxy
import SMTPReplay
import SMTPServices

/// `smtp-inspect replay FILE... [--filters PATH]... [--format table|json] [--to HOST:PORT]`: runs
/// captured SMTP sessions through the engine and the rules, offline, or re-sends their client side
/// to a live server and compares the replies (SPEC §6). The work is `ReplayRun` / `ResendRun`.
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

            --to HOST:PORT re-sends the client side of every SMTP session in the captures to a \
            live server (or to a proxy in front of one) and reports where its replies differ \
            from the captured ones. HOST may be a name, an IPv4 address or a bracketed IPv6 \
            address ([::1]:25). One connection per session, one session at a time, paced by \
            the replies: the captured client bytes are cut where the captured client waited \
            for the server (the bytes sent between two server transmissions, in capture \
            order); each piece is sent unchanged, then the server is read until it has sent as \
            many complete replies as the captured server had at that point, or \
            --reply-timeout seconds pass (a timeout is reported, never a hang), or it closes. \
            The bytes of a proxy tunnel set-up (HTTP CONNECT, SOCKS) are not sent. A session \
            stops after a STARTTLS that got 220 in the capture (the rest is TLS; the report \
            says so), and before a gap in the capture. With --upstream-ca FILE (or \
            --upstream-insecure) a capture that holds the clear text inside TLS, as \
            'proxy --tls terminate --record' writes it, goes on past the STARTTLS: once the \
            live server has answered it with 220 too, the resend starts TLS with it (its \
            certificate checked against FILE and the name or address of --to) and sends the \
            rest of the captured clear text inside. AUTH credentials are sent as captured \
            (the capture is yours) but never printed: commands are shown as the audit log \
            shows them (AUTH PLAIN [redacted]). The captured messages are delivered again: \
            point --to at a test server or a sink, not at a production MX.

            Replies are compared pairwise within each piece, by code only (texts carry queue \
            ids and host names): a reply whose code differs is reported with its number in \
            the session (#0 is the greeting), the command it answers, and both codes and \
            texts; captured replies that did not come are "missing" (timeout or closed), \
            replies the capture does not have are "extra". --format table prints a block per \
            session that lists the differences, and a line per file; --format json prints, \
            per session, one JSON object per line: resend-start (source, client, server, to, \
            connected), resend-diff (kind code|missing|extra, step, captured_index, new_index, \
            for, command, captured_code, captured_text, new_code, new_text, reason), \
            resend-note (kind starttls|relay|gap|mid-stream|diverged|timeout|closed| \
            connection-failed|connect-failed|tls|tls-failed, step, detail) and resend-end (result match|differ, steps, \
            steps_sent, captured_replies, new_replies, same_codes, code_differences, missing, \
            extra, not_resent); each with ts, session and event. --filters does not apply \
            (point --to at a proxy running the rules instead).

            Exit status with --to: 0 when every session got the same reply codes; 1 when any \
            differed, timed out, was closed early or could not connect; 2 for bad arguments or \
            an unreadable capture, as above.

            Examples:
              smtp-inspect replay captures/several-sessions.pcap --filters filters/
              smtp-inspect replay captures/*.pcap --to 127.0.0.1:2525
              smtp-inspect replay mail.pcapng --to '[::1]:25' --format json
              smtp-inspect replay recorded.pcap --to mx.test:25 --upstream-ca ca.pem
            """
    )

    @Argument(help: ArgumentHelp("Capture files (pcap or pcapng; - for standard input).", valueName: "file"))
    var files: [String]

    @Option(name: .customLong("filters"), help: ArgumentHelp("A rule file or a directory of rule files; repeatable.", valueName: "path"))
    var filters: [String] = []

    @Option(help: ArgumentHelp("table or json (default: table on a terminal, else json).", valueName: "format"))
    var format: ReplayFormat?

    @Option(help: ArgumentHelp("Re-send each session's client side to this server and compare the replies.", valueName: "host:port"))
    var to: String?

    @Option(help: ArgumentHelp("With --to: seconds to wait for the replies of each step (default 30).", valueName: "seconds"))
    var replyTimeout: Double = 30

    @Option(
        help: ArgumentHelp(
            "How to read what follows a 220 to STARTTLS: passthrough (ciphertext, not inspected; the default), strip, or "
                + "terminate (clear text, as 'proxy --tls terminate --record' records it).",
            valueName: "mode"))
    var tls: String = "passthrough"

    @Option(
        name: .customLong("upstream-ca"),
        help: ArgumentHelp("With --to: resend past STARTTLS over TLS, trusting the CA certificates in this PEM file.", valueName: "file"))
    var upstreamCA: String?

    @Flag(name: .customLong("upstream-insecure"), help: "With --to: resend past STARTTLS over TLS without checking the certificate.")
    var upstreamInsecure = false

    @Flag(
        name: .customLong("dry-run"),
        help: "Rules, client limits and policy services only log what they would do (would-reject, …): every captured command is replayed as forwarded.")
    var dryRun = false

    func validate() throws {
        guard TLSMode(rawValue: tls) != nil else {
            throw ValidationError("--tls: expected passthrough, strip or terminate, got '\(tls)'")
        }
        if upstreamCA != nil && upstreamInsecure {
            throw ValidationError("--upstream-ca and --upstream-insecure exclude each other")
        }
        guard let to else {
            if upstreamCA != nil || upstreamInsecure { throw ValidationError("--upstream-ca and --upstream-insecure apply with --to") }
            return
        }
        guard let target = HostAndPort(parsing: to), target.port > 0, !target.host.isEmpty else {
            throw ValidationError("--to: expected host:port (an IPv6 address in brackets: [::1]:25), got '\(to)'")
        }
        guard filters.isEmpty else {
            throw ValidationError("--filters does not apply with --to: the live server answers; point --to at a proxy running the rules")
        }
        guard replyTimeout > 0, replyTimeout.isFinite else { throw ValidationError("--reply-timeout: expected a positive number of seconds") }
    }

    func run() throws {
        if let to, let target = HostAndPort(parsing: to) {
            try resend(to: target)
            return
        }
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
        var options = ReplayOptions(policy: policy, dryRun: dryRun, tlsMode: TLSMode(rawValue: tls) ?? .passthrough)
        // Client limits count in capture time (SPEC §10) and `action: policy` rules ask their
        // servers (SPEC §11), as the live proxy does.
        let limits = (policy as? RuleSet).flatMap { ClientLimitConsultant.reusing(nil, for: $0.clientLimits, dryRun: dryRun) }
        // Milters read each captured message at its end (SPEC §12): their answers are events.
        let milters = (policy as? RuleSet).flatMap { MilterConsultant(rules: $0) }
        options.consultants = ConsultantChain([limits].compactMap { $0 } + PolicyConsultant.consultants(for: policy) + [milters].compactMap { $0 })
        let run = ReplayRun(
            files: files,
            options: options,
            format: format ?? (output.isTerminal ? .table : .json),
            showProgress: diagnostics.isTerminal
        )
        let status = run.run(write: { output.write($0) }, report: { diagnostics.write($0) })
        output.flush()
        diagnostics.flush()
        if status != 0 { throw ExitCode(status) }
    }

    /// `--to`: the resend (`ResendRun`).
    private func resend(to target: HostAndPort) throws {
        signal(SIGPIPE, SIG_IGN)
        let output = FileDescriptorWriter(descriptor: STDOUT_FILENO)
        let diagnostics = FileDescriptorWriter(descriptor: STDERR_FILENO, capacity: 0)
        var tls: ResendTLS?
        if upstreamCA != nil || upstreamInsecure {
            do {
                tls = try ResendTLS(caFile: upstreamCA, insecure: upstreamInsecure)
            } catch {
                diagnostics.write("smtp-inspect: \(error.description)\n")
                throw ExitCode(2)
            }
        }
        let run = ResendRun(
            files: files,
            resender: LiveResender(host: target.host, port: target.port, replyTimeout: replyTimeout, tls: tls),
            format: format ?? (output.isTerminal ? .table : .json)
        )
        // Each session's block as soon as it is done (a resend takes real time).
        let status = run.run(write: { output.write($0); output.flush() }, report: { diagnostics.write($0) })
        output.flush()
        diagnostics.flush()
        if status != 0 { throw ExitCode(status) }
    }
}

extension ReplayFormat: ExpressibleByArgument {}
