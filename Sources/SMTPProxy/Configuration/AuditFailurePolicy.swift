/// `--audit-failure`: what the proxy does while its audit log cannot be written.
public enum AuditFailurePolicy: String, Sendable, CaseIterable {
    /// No mail passes unaudited: new transactions (MAIL, and DATA/BDAT) get `451 4.3.0`, new
    /// sessions `421 4.3.0`, until a write succeeds again.
    case tempfail
    /// Relaying goes on; the lines wait in memory (bounded) and the failure is reported.
    case `continue`
}
