import Logging
import SMTPCore

/// What every session of one server shares.
struct ProxyContext: Sendable {
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
}
