import NIOCore
import NIOSSL

/// The TLS contexts of one server, loaded once at start-up: the proxy as a TLS server (clients'
/// STARTTLS and the implicit-TLS listener) and as a TLS client (the upstream leg).
struct TLSContexts: Sendable {
    let server: NIOSSLContext
    let client: NIOSSLContext

    /// Loads the certificate, key and trust roots; any problem is a one-line configuration error.
    init(_ settings: TLSSettings) throws(ProxyError) {
        guard let certificatePath = settings.certificatePath, let keyPath = settings.keyPath else {
            throw .invalidTLS("--tls terminate and --listen-tls need --tls-cert and --tls-key")
        }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
            guard !chain.isEmpty else { throw ProxyError.invalidTLS("\(certificatePath): no PEM certificate in it") }
            let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
            var serverConfiguration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            serverConfiguration.minimumTLSVersion = .tlsv12
            server = try NIOSSLContext(configuration: serverConfiguration)
        } catch let error as ProxyError {
            throw error
        } catch {
            throw .invalidTLS("cannot load --tls-cert \(certificatePath) / --tls-key \(keyPath): \(error)")
        }
        var clientConfiguration = TLSConfiguration.makeClientConfiguration()
        clientConfiguration.minimumTLSVersion = .tlsv12
        if settings.upstreamInsecure {
            clientConfiguration.certificateVerification = .none
        } else if let caPath = settings.upstreamCAPath {
            do {
                let roots = try NIOSSLCertificate.fromPEMFile(caPath)
                guard !roots.isEmpty else { throw ProxyError.invalidTLS("--upstream-ca \(caPath): no PEM certificate in it") }
                clientConfiguration.trustRoots = .certificates(roots)
            } catch let error as ProxyError {
                throw error
            } catch {
                throw .invalidTLS("cannot load --upstream-ca \(caPath): \(error)")
            }
        }
        do {
            client = try NIOSSLContext(configuration: clientConfiguration)
        } catch {
            throw .invalidTLS("cannot set up TLS towards the upstream: \(error)")
        }
    }

    /// The handler that makes the proxy the TLS client of the upstream. The certificate is
    /// checked against the upstream's host name, or its IP address when it was given as one.
    func upstreamHandler(for target: UpstreamTarget) throws -> NIOSSLClientHandler {
        var hostname: String?
        if case .configured(let hostAndPort) = target, (try? SocketAddress(ipAddress: hostAndPort.host, port: 0)) == nil {
            hostname = hostAndPort.host
        }
        return try NIOSSLClientHandler(context: client, serverHostname: hostname)
    }

    func clientHandler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: server)
    }
}
