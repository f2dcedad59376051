import NIOSSL

/// How `replay --to` speaks TLS to the live server when a captured session started TLS
/// (`--upstream-ca FILE` or `--upstream-insecure`, as `proxy --tls terminate` checks its
/// upstream). Without it the resend stops at a STARTTLS, as the capture's TLS bytes could not be
/// resent anyway; with it, a capture that holds the clear text inside TLS (what
/// `proxy --tls terminate --record` writes) is resent past the STARTTLS over a TLS session of
/// its own.
public struct ResendTLS: Sendable {
    /// A TLS setting that cannot be used (one line, naming the file).
    public struct SetupError: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
    }

    let context: NIOSSLContext
    /// False with `--upstream-insecure`: the server's certificate is not checked.
    public let verifiesCertificate: Bool

    /// Trusts the CA certificates (PEM) in `caFile`, or, with `insecure`, any certificate.
    public init(caFile: String?, insecure: Bool = false) throws(SetupError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if insecure {
            configuration.certificateVerification = .none
        } else if let caFile {
            let roots: [NIOSSLCertificate]
            do {
                roots = try NIOSSLCertificate.fromPEMFile(caFile)
            } catch {
                throw SetupError(description: "cannot load --upstream-ca \(caFile): \(error)")
            }
            guard !roots.isEmpty else { throw SetupError(description: "--upstream-ca \(caFile): no PEM certificate in it") }
            configuration.trustRoots = .certificates(roots)
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw SetupError(description: "cannot set up TLS towards the server: \(error)")
        }
        verifiesCertificate = !insecure
    }
}
