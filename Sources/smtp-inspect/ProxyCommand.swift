import ArgumentParser
import Foundation
import Logging
import SMTPCore
import SMTPProxy
import ServiceLifecycle
import UnixSignals

/// `smtp-inspect proxy`: the live proxy.
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Run the inspecting proxy between SMTP clients and an upstream server.",
        discussion: """
            Accepts SMTP clients on --listen and opens one connection to --upstream for each. \
            Both byte streams run through the inspection engine: rules from --filters decide per \
            command, SMTP smuggling sequences are neutralised, replies reach the client in \
            pipeline order. Every decision is written as JSON lines to --log.

            Signals: SIGHUP reloads the rule files (invalid files keep the previous rules and \
            the problems are logged); SIGTERM and SIGINT stop accepting and wait for open \
            sessions to end.

            Example:
              smtp-inspect proxy --listen 0.0.0.0:25 --upstream 127.0.0.1:2525 \\
                --filters /etc/smtp-inspect/filters --log /var/log/smtp-inspect.jsonl

            Transparent interception (a router diverts port 25 to the proxy; see README, \
            "Transparent interception", for the iptables/nft rules):
              smtp-inspect proxy --listen 0.0.0.0:10025 --upstream original-dst  # REDIRECT
              smtp-inspect proxy --listen 0.0.0.0:10025 --transparent            # TPROXY
            A connection made straight to the listener is refused with 421 (it would loop).
            """
    )

    @Option(help: ArgumentHelp("Address to accept clients on (IPv4, [IPv6] or host name).", valueName: "host:port"))
    var listen: String

    @Option(
        help: ArgumentHelp(
            "The SMTP server to forward to, or original-dst: each connection's own original destination "
                + "(connections diverted to --listen by iptables/nft REDIRECT or DNAT; one listener serves any number of servers).",
            valueName: "host:port|original-dst"))
    var upstream: String?

    @Flag(
        help: ArgumentHelp(
            "Accept connections diverted by TPROXY (IP_TRANSPARENT on the listener; needs CAP_NET_ADMIN) and forward "
                + "each to its original destination. Implies --upstream original-dst; REDIRECTed connections work too."))
    var transparent = false

    @Option(
        help: ArgumentHelp(
            "Source address of upstream connections: proxy (the proxy's own) or client (the client's, so the server "
                + "sees the real client; needs --transparent and the policy routing in the README).",
            valueName: "proxy|client"))
    var upstreamSource = "proxy"

    @Option(name: .customLong("filters"), help: ArgumentHelp("Rule file or directory (repeatable). None: audit only.", valueName: "path"))
    var filters: [String] = []

    @Option(help: ArgumentHelp("Audit log: a file to append JSON lines to, or - for standard output.", valueName: "path|-"))
    var log: String = "-"

    @Option(help: ArgumentHelp("Record every session's client leg (AUTH secrets redacted) as a pcap file.", valueName: "file.pcap"))
    var record: String?

    @Option(help: ArgumentHelp("STARTTLS handling: passthrough (relay TLS blind) or strip (remove STARTTLS, keep inspecting).", valueName: "mode"))
    var tls: String = "passthrough"

    @Option(help: ArgumentHelp("Clients served at once; more get 421 4.7.0.", valueName: "n"))
    var maxConnections: Int = 10_000

    @Option(help: ArgumentHelp("Seconds to wait for a client's next command (RFC 5321 §4.5.3.2.7).", valueName: "seconds"))
    var idleTimeout: Int64 = 300

    @Flag(help: "Log what the rules would do ('would-reject'…) but forward everything.")
    var dryRun = false

    @Option(help: ArgumentHelp("Diagnostics on standard error: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String = "notice"

    @Option(help: ArgumentHelp("Event-loop threads (default: one per core).", valueName: "n"))
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard HostAndPort(parsing: listen) != nil else { throw ValidationError("--listen: expected host:port, got '\(listen)'") }
        _ = try upstreamChoice()
        guard TLSMode(rawValue: tls) != nil else { throw ValidationError("--tls: expected passthrough or strip, got '\(tls)'") }
        guard tls != "terminate" else {
            throw ValidationError("--tls terminate needs --tls-cert/--tls-key, which this build does not have yet; use passthrough or strip")
        }
        guard maxConnections > 0 else { throw ValidationError("--max-connections must be positive") }
        guard idleTimeout > 0 else { throw ValidationError("--idle-timeout must be positive") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level '\(logLevel)'") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .notice
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "smtp-inspect")
        let choice = try upstreamChoice()
        let configuration = ProxyConfiguration(
            listen: HostAndPort(parsing: listen)!,
            upstream: choice.upstream,
            filterPaths: filters,
            dryRun: dryRun,
            tlsMode: TLSMode(rawValue: tls)!,
            maxConnections: maxConnections,
            timeouts: ProxyTimeouts(idle: idleTimeout),
            threads: max(1, threads),
            interception: choice.interception,
            upstreamSource: choice.source
        )
        let policies: PolicyStore
        let auditLog: AuditLogWriter
        let recording: CaptureFile?
        do {
            policies = try PolicyStore(paths: filters)
            auditLog = try AuditLogWriter(path: log)
            recording = try record.map { try CaptureFile(path: $0) }
        } catch {
            FileHandle.standardError.write(Data("smtp-inspect: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let server = ProxyServer(
            configuration: configuration, policies: policies, auditLog: auditLog, logger: logger, recording: recording)
        // The server binds inside the group, after the group has taken over SIGTERM and SIGINT:
        // a signal that arrives as soon as the port is open stops it gracefully.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        // Trap SIGHUP before anything listens, so an early one reloads instead of terminating.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask {
                for await _ in hangups {
                    policies.reload(logger: logger)
                }
            }
            do {
                try await group.run()
            } catch let error as ProxyError {
                FileHandle.standardError.write(Data("smtp-inspect: \(error)\n".utf8))
                throw ExitCode(2)
            }
            tasks.cancelAll()
        }
        auditLog.close()
        recording?.close()
    }
}
