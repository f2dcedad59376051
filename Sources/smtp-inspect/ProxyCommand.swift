import ArgumentParser
import Foundation
import IPAddressing
import Logging
import SMTPCore
import SMTPFilters
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
            pipeline order. Every decision is written as JSON lines to --log; with --metrics \
            the same events are counted for Prometheus.

            TLS: with --tls terminate the proxy offers STARTTLS with --tls-cert/--tls-key, \
            upgrades the upstream leg itself (checking its certificate against --upstream-ca or \
            the system store) and inspects the clear text; --listen-tls adds a port-465-style \
            listener. The default, passthrough, relays everything after STARTTLS blind.

            Behind a load balancer: --proxy-protocol-in reads the PROXY v1/v2 header HAProxy \
            sends (send-proxy, send-proxy-v2) from the peers of --proxy-protocol-from, and \
            --proxy-protocol-out v1|v2 passes the client on to the upstream (Postfix: \
            smtpd_upstream_proxy_protocol = haproxy). See deploy/haproxy/haproxy.cfg.

            Signals: SIGHUP reloads the rule files (invalid files keep the previous rules and \
            the problems are logged); SIGUSR1 reopens --log and starts a new --record file \
            (for logrotate: deploy/logrotate/smtp-inspect); SIGTERM and SIGINT stop accepting \
            and wait for open sessions to end.

            Audit trail: when --log cannot be written (full disk, I/O error) standard error says \
            so once, the lines wait in memory and are retried every 200 ms, and with \
            --audit-failure tempfail (the default) new transactions get 451 4.3.0 and new \
            sessions 421 4.3.0 until the log is writable again.

            Example:
              smtp-inspect proxy --listen 0.0.0.0:25 --upstream 127.0.0.1:2525 \\
                --filters /etc/smtp-inspect/filters --log /var/log/smtp-inspect.jsonl

            Transparent interception (a router diverts port 25 to the proxy; see \
            docs/transparent-interception.md for the iptables/nft rules):
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
                + "sees the real client; needs --transparent and the policy routing in docs/transparent-interception.md).",
            valueName: "proxy|client"))
    var upstreamSource = "proxy"

    @Option(name: .customLong("filters"), help: ArgumentHelp("Rule file or directory (repeatable). None: audit only.", valueName: "path"))
    var filters: [String] = []

    @Option(help: ArgumentHelp("Audit log: a file to append JSON lines to, or - for standard output.", valueName: "path|-"))
    var log: String = "-"

    @Option(
        help: ArgumentHelp(
            "While --log cannot be written: tempfail (refuse new transactions with 451 4.3.0 and new sessions with "
                + "421 4.3.0: no mail passes unaudited) or continue (keep relaying).",
            valueName: "tempfail|continue"))
    var auditFailure: String = "tempfail"

    @Option(help: ArgumentHelp("Record every session's client leg (AUTH secrets redacted) as a pcap file.", valueName: "file.pcap"))
    var record: String?

    @Option(
        help: ArgumentHelp(
            "STARTTLS handling: passthrough (relay TLS blind, uninspected), strip (remove STARTTLS, keep inspecting in clear) "
                + "or terminate (the proxy does TLS with both sides and inspects the clear text; needs --tls-cert/--tls-key).",
            valueName: "mode"))
    var tls: String = "passthrough"

    @Option(help: ArgumentHelp("PEM certificate chain the proxy presents to clients (leaf first).", valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("PEM private key of --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Option(
        help: ArgumentHelp(
            "Also accept implicit-TLS clients here (port 465 style) with --tls-cert/--tls-key; the upstream leg is clear text.",
            valueName: "host:port"))
    var listenTLS: String?

    @Option(
        help: ArgumentHelp(
            "With --tls terminate: PEM file of the CAs the upstream's certificate must chain to (default: the system trust store).",
            valueName: "file"))
    var upstreamCA: String?

    @Flag(help: "With --tls terminate: do not verify the upstream's certificate (each session-end says 'terminated-unverified').")
    var upstreamInsecure = false

    @Option(help: ArgumentHelp("Clients served at once; more get 421 4.7.0.", valueName: "n"))
    var maxConnections: Int = 10_000

    @Option(help: ArgumentHelp("Seconds to wait for a client's next command (RFC 5321 §4.5.3.2.7).", valueName: "seconds"))
    var idleTimeout: Int64 = 300

    @Flag(help: "Log what the rules would do ('would-reject'…) but forward everything.")
    var dryRun = false

    @Option(help: ArgumentHelp("Diagnostics on standard error: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String = "notice"

    @Option(help: ArgumentHelp("Event-loop threads (default: one per core).", valueName: "n"))
    var threads: Int?

    @Option(
        help: ArgumentHelp(
            "Serve Prometheus metrics (text format 0.0.4) at http://host:port/metrics. Off by default.",
            discussion: "Sessions, commands by verb and action, replies by verb, code class and origin, rule hits, anomalies, "
                + "bytes, active sessions, upstream errors, TLS handshakes and reply latency. Bind it to loopback or a "
                + "management network: it is not authenticated.",
            valueName: "host:port"))
    var metrics: String?

    @Flag(help: ArgumentHelp(
        "Expect a PROXY protocol v1 or v2 header (from a load balancer such as HAProxy) first on every connection; the audit log and the upstream then see the client it names. Connections without a valid header within 5 s are closed."))
    var proxyProtocolIn = false

    @Option(help: ArgumentHelp(
        "With --proxy-protocol-in: only peers in this block may connect (repeatable; e.g. 10.0.0.0/8, 192.0.2.7, ::1/128). Default: any peer.",
        valueName: "cidr"))
    var proxyProtocolFrom: [String] = []

    @Option(help: ArgumentHelp(
        "Send a PROXY protocol header (v1 or v2) first on every upstream connection, naming the client (for Postfix's smtpd_upstream_proxy_protocol = haproxy).",
        valueName: "v1|v2"))
    var proxyProtocolOut: String?

    @Flag(help: ArgumentHelp(
        "Tell the upstream who the client is with XCLIENT (Postfix: smtpd_authorized_xclient_hosts) before the client sees the greeting; excludes --proxy-protocol-out."))
    var xclient = false

    func validate() throws {
        guard HostAndPort(parsing: listen) != nil else { throw ValidationError("--listen: expected host:port, got '\(listen)'") }
        _ = try upstreamChoice()
        guard let mode = TLSMode(rawValue: tls) else {
            throw ValidationError("--tls: expected passthrough, strip or terminate, got '\(tls)'")
        }
        if let listenTLS, HostAndPort(parsing: listenTLS) == nil {
            throw ValidationError("--listen-tls: expected host:port, got '\(listenTLS)'")
        }
        if (mode == .terminate || listenTLS != nil) && (tlsCert == nil || tlsKey == nil) {
            throw ValidationError("--tls terminate and --listen-tls need --tls-cert and --tls-key")
        }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if upstreamCA != nil && upstreamInsecure { throw ValidationError("--upstream-ca and --upstream-insecure exclude each other") }
        if (upstreamCA != nil || upstreamInsecure) && mode != .terminate {
            throw ValidationError("--upstream-ca and --upstream-insecure apply to --tls terminate only")
        }
        guard maxConnections > 0 else { throw ValidationError("--max-connections must be positive") }
        guard idleTimeout > 0 else { throw ValidationError("--idle-timeout must be positive") }
        if let metrics {
            guard let address = HostAndPort(parsing: metrics) else { throw ValidationError("--metrics: expected host:port, got '\(metrics)'") }
            guard address.port == 0 || address != HostAndPort(parsing: listen) else {
                throw ValidationError("--metrics needs an address of its own, not the --listen address \(address)")
            }
        }
        guard AuditFailurePolicy(rawValue: auditFailure) != nil else {
            throw ValidationError("--audit-failure: expected tempfail or continue, got '\(auditFailure)'")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level '\(logLevel)'") }
        guard proxyProtocolFrom.isEmpty || proxyProtocolIn else { throw ValidationError("--proxy-protocol-from needs --proxy-protocol-in") }
        if let proxyProtocolOut, ProxyProtocolVersion(rawValue: proxyProtocolOut) == nil {
            throw ValidationError("--proxy-protocol-out: expected v1 or v2, got '\(proxyProtocolOut)'")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .notice
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "smtp-inspect")
        let allowedPeers: [CIDR]
        do {
            allowedPeers = try proxyProtocolFrom.map { (text) throws(CIDRError) in try CIDR(parsing: text) }
        } catch {
            FileHandle.standardError.write(Data("smtp-inspect: --proxy-protocol-from: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let choice = try upstreamChoice()
        var configuration = ProxyConfiguration(
            listen: HostAndPort(parsing: listen)!,
            upstream: choice.upstream,
            filterPaths: filters,
            dryRun: dryRun,
            tlsMode: TLSMode(rawValue: tls)!,
            tls: TLSSettings(
                certificatePath: tlsCert, keyPath: tlsKey, implicitListen: listenTLS.flatMap(HostAndPort.init(parsing:)),
                upstreamCAPath: upstreamCA, upstreamInsecure: upstreamInsecure),
            maxConnections: maxConnections,
            timeouts: ProxyTimeouts(idle: idleTimeout),
            threads: max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount),
            metrics: metrics.flatMap(HostAndPort.init(parsing:)),
            proxyProtocol: ProxyProtocolSettings(
                acceptsHeader: proxyProtocolIn, allowedPeers: allowedPeers, outgoing: proxyProtocolOut.flatMap(ProxyProtocolVersion.init)),
            interception: choice.interception,
            upstreamSource: choice.source
        )
        configuration.auditFailure = AuditFailurePolicy(rawValue: auditFailure) ?? .tempfail
        // Made here (not by the server) so that milters and policy clients report to them too.
        let serviceMetrics = configuration.metrics == nil ? nil : ProxyMetrics()
        configuration.xclient = xclient
        let policies: PolicyStore
        let auditLog: AuditLogWriter
        let recording: CaptureFile?
        do {
            policies = try PolicyStore(paths: filters, consultants: ProxyConsultants.factory(metrics: serviceMetrics, dryRun: dryRun))
            auditLog = try AuditLogWriter(path: log)
            recording = try record.map { try CaptureFile(path: $0) }
        } catch {
            FileHandle.standardError.write(Data("smtp-inspect: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let server: ProxyServer
        do {
            server = try ProxyServer(
                configuration: configuration, policies: policies, auditLog: auditLog, logger: logger, recording: recording,
                metrics: serviceMetrics)
        } catch {
            FileHandle.standardError.write(Data("smtp-inspect: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if upstreamInsecure {
            logger.warning("--upstream-insecure: the upstream's TLS certificate is not verified")
        }
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
        let rotations = await UnixSignalsSequence(trapping: .sigusr1)
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask {
                for await _ in hangups {
                    policies.reload(logger: logger)
                }
            }
            tasks.addTask {
                for await _ in rotations {
                    auditLog.reopen()
                    recording?.reopen()
                    logger.notice("log reopened", metadata: ["log": "\(log)", "record": "\(record ?? "-")"])
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
        recording?.close()
        // Audit lines that never reached the log are a runtime failure: exit 1, after the
        // message close() wrote.
        guard auditLog.close() else { throw ExitCode(1) }
    }
}
