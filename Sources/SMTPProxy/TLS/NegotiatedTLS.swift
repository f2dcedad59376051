import NIOSSL
import SMTPCore

/// What the client leg's handshake negotiated (`--tls terminate`, `--listen-tls`): the version
/// from NIOSSL when the handshake completes, the cipher suite from the ServerHello
/// (`ServerHelloObserver`). Consults carry it as Postfix's `encryption_*` policy attributes.
struct NegotiatedTLS: Sendable {
    var version: TLSVersion?
    var cipherSuite: TLSCipherSuite?

    /// OpenSSL's name of the version, as Postfix's `encryption_protocol`.
    var protocolName: String? {
        switch version {
        case .tlsv1: "TLSv1"
        case .tlsv11: "TLSv1.1"
        case .tlsv12: "TLSv1.2"
        case .tlsv13: "TLSv1.3"
        case nil: nil
        }
    }

    /// The request with the client leg's TLS in its facts (unchanged before a handshake).
    func annotated(_ request: ConsultRequest) -> ConsultRequest {
        guard let protocolName else { return request }
        var request = request
        request.facts.encryptionProtocol = protocolName
        request.facts.encryptionCipher = cipherSuite?.name
        request.facts.encryptionKeySize = cipherSuite?.keySize
        return request
    }
}
