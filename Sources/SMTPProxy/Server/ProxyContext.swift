import Logging
import NIOCore
import SMTPCore

/// What every session of one server shares. A class: each session holds one reference to it,
/// not a copy of every field (the configuration alone holds a dozen strings and arrays).
final class ProxyContext: Sendable {
    let configuration: ProxyConfiguration
    let policies: PolicyStore
    let auditLog: AuditLogWriter
    let limiter: ConnectionLimiter
    let sessionIDs: SessionIDGenerator
    let logger: Logger
    let sessions: SessionRegistry
    let recording: CaptureFile?
    /// Loaded when the configuration needs TLS (`--tls terminate`, `--listen-tls`).
    let tls: TLSContexts?
    /// `--metrics`: nil without it (sessions then skip counting altogether).
    let metrics: ProxyMetrics?
    /// How sessions reach the upstream: a socket per session (`SocketUpstreamConnector`) unless a
    /// test hands in its own.
    let upstreamConnector: any UpstreamConnector
    /// Writes the audit log soon after the last open session ended (`ProxySession.finishIfDone`).
    let idleFlush: IdleLogFlush

    init(
        configuration: ProxyConfiguration, policies: PolicyStore, auditLog: AuditLogWriter, limiter: ConnectionLimiter,
        sessionIDs: SessionIDGenerator, logger: Logger, sessions: SessionRegistry, recording: CaptureFile?,
        tls: TLSContexts?, metrics: ProxyMetrics?, upstreamConnector: (any UpstreamConnector)? = nil
    ) {
        self.configuration = configuration
        self.policies = policies
        self.auditLog = auditLog
        self.limiter = limiter
        self.sessionIDs = sessionIDs
        self.logger = logger
        self.sessions = sessions
        self.recording = recording
        self.tls = tls
        self.metrics = metrics
        self.upstreamConnector = upstreamConnector ?? SocketUpstreamConnector(connectTimeout: .seconds(configuration.connectTimeout))
        idleFlush = IdleLogFlush(auditLog: auditLog)
    }

    /// `--audit-failure tempfail` and the audit log cannot be written: new sessions get 421 4.3.0.
    var refusesNewSessions: Bool {
        configuration.auditFailure == .tempfail && auditLog.health.isFailing
    }
}
