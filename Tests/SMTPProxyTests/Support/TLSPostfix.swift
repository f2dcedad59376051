import Foundation

/// A Postfix that offers STARTTLS, with a certificate for `upstream.test` from a throwaway CA
/// (one instance per name, shared by the suites that ask for it).
enum TLSPostfix {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: [String: (postfix: PostfixInstance, ca: TestCA)] = [:]

    /// The instance and the CA that signed its certificate.
    static func instance() throws -> (postfix: PostfixInstance, caFile: String) {
        let (postfix, ca) = try instanceAndCA()
        return (postfix, ca.certificate)
    }

    static func instanceAndCA(name: String = "starttls") throws -> (postfix: PostfixInstance, ca: TestCA) {
        lock.lock()
        defer { lock.unlock() }
        if let existing = made[name] { return existing }
        let ca = try TestCA(name: "smtp-inspect test CA")
        let server = try ca.issue("upstream.test")
        let postfix = try DedicatedPostfix.instance(
            name,
            extraMainCF: [
                "smtpd_tls_cert_file = \(server.certificate)",
                "smtpd_tls_key_file = \(server.key)",
                "smtpd_tls_security_level = may",
                "smtpd_tls_loglevel = 1",
                "smtpd_tls_received_header = yes",
            ])
        made[name] = (postfix, ca)
        return (postfix, ca)
    }
}
