/// Which connection a TLS handshake was on (the `leg` label of `smtp_inspect_tls_handshakes_total`).
public enum TLSLeg: String, Sendable, CaseIterable {
    /// Client to proxy (the proxy is the TLS server).
    case client
    /// Proxy to upstream (the proxy is the TLS client).
    case upstream
}
