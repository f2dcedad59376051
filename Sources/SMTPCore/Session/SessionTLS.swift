/// Which legs of a session are encrypted, as one value (the `session-end` `tls` field names it):
/// the client leg and the upstream leg cannot be set apart inconsistently.
enum SessionTLS: String, Sendable {
    case none
    /// STARTTLS relayed blind: both legs carry the client's and the server's own TLS.
    case passthrough
    /// `--tls terminate` with the upstream upgraded too.
    case terminated
    /// `--tls terminate`, the upstream offering no STARTTLS: only the client leg is encrypted.
    case terminatedUpstreamClear = "terminated-upstream-clear"
    /// An implicit-TLS listener (`--listen-tls`) in front of a clear upstream.
    case implicitUpstreamClear = "implicit-upstream-clear"

    /// The proxy decrypts the client leg.
    var clientLegEncrypted: Bool { self == .terminated || self == .terminatedUpstreamClear || self == .implicitUpstreamClear }
    /// The proxy encrypts the upstream leg.
    var upstreamLegEncrypted: Bool { self == .terminated }
}
