import SMTPCore

/// Everything `smtp-inspect proxy` is configured with; the CLI fills it from its flags and tests
/// build it directly.
public struct ProxyConfiguration: Sendable {
    public var listen: HostAndPort
    /// `--upstream HOST:PORT`; not used when `interception` takes each session's destination
    /// from its connection.
    public var upstream: HostAndPort
    /// `--upstream original-dst`, `--transparent`.
    public var interception: InterceptionMode
    /// `--upstream-source`.
    public var upstreamSource: UpstreamSource
    /// Rule files and directories (`--filters`); empty: pure audit.
    public var filterPaths: [String]
    public var dryRun: Bool
    public var tlsMode: TLSMode
    /// Certificates for `--tls terminate` and `--listen-tls`.
    public var tls: TLSSettings
    /// Excess clients get `421 4.7.0` and are closed.
    public var maxConnections: Int
    public var timeouts: ProxyTimeouts
    /// Seconds to wait for the upstream's TCP handshake.
    public var connectTimeout: Int64
    /// Number of event loops (threads).
    public var threads: Int
    /// Where to serve Prometheus metrics (`GET /metrics`); nil: no metrics, nothing counted.
    public var metrics: HostAndPort?
    /// PROXY protocol on the client and upstream legs.
    public var proxyProtocol: ProxyProtocolSettings
    /// `--audit-failure`: refuse new mail (tempfail) or keep relaying while the audit log fails.
    public var auditFailure: AuditFailurePolicy = .tempfail
    /// `--xclient`: name the client to the upstream with Postfix's XCLIENT before its greeting
    /// reaches the client (`XCLIENTHandler`); excludes `proxyProtocol.outgoing`.
    public var xclient = false

    public init(
        listen: HostAndPort,
        upstream: HostAndPort,
        filterPaths: [String] = [],
        dryRun: Bool = false,
        tlsMode: TLSMode = .passthrough,
        tls: TLSSettings = TLSSettings(),
        maxConnections: Int = 10_000,
        timeouts: ProxyTimeouts = ProxyTimeouts(),
        connectTimeout: Int64 = 30,
        threads: Int = System.coreCount,
        metrics: HostAndPort? = nil,
        proxyProtocol: ProxyProtocolSettings = ProxyProtocolSettings(),
        interception: InterceptionMode = .off,
        upstreamSource: UpstreamSource = .proxy
    ) {
        self.interception = interception
        self.upstreamSource = upstreamSource
        self.listen = listen
        self.upstream = upstream
        self.filterPaths = filterPaths
        self.dryRun = dryRun
        self.tlsMode = tlsMode
        self.tls = tls
        self.maxConnections = maxConnections
        self.timeouts = timeouts
        self.connectTimeout = connectTimeout
        self.threads = threads
        self.metrics = metrics
        self.proxyProtocol = proxyProtocol
    }
}

import enum NIOCore.System
