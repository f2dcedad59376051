/// The TLS side of `--tls terminate` and `--listen-tls` (SPEC §2, §4).
public struct TLSSettings: Sendable {
    /// PEM certificate chain the proxy presents to clients (`--tls-cert`), leaf first.
    public var certificatePath: String?
    /// PEM private key of that certificate (`--tls-key`).
    public var keyPath: String?
    /// An implicit-TLS listener (port 465 style, `--listen-tls`).
    public var implicitListen: HostAndPort?
    /// PEM file of the CAs the upstream's certificate must chain to (`--upstream-ca`); nil: the
    /// system trust store.
    public var upstreamCAPath: String?
    /// Skip verification of the upstream's certificate (`--upstream-insecure`); every session
    /// says so in its `session-end` `tls` field.
    public var upstreamInsecure: Bool

    public init(
        certificatePath: String? = nil, keyPath: String? = nil, implicitListen: HostAndPort? = nil,
        upstreamCAPath: String? = nil, upstreamInsecure: Bool = false
    ) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.implicitListen = implicitListen
        self.upstreamCAPath = upstreamCAPath
        self.upstreamInsecure = upstreamInsecure
    }
}
