import Foundation
import Testing

/// A Postfix that offers STARTTLS, with a throwaway CA and server certificate made by `openssl`
/// for this test run (one instance, shared by the STARTTLS suites).
enum TLSPostfix {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: (postfix: PostfixInstance, caFile: String)?
    nonisolated(unsafe) private static var materialDirectory: String?

    /// The instance and the CA certificate that signed its certificate.
    static func instance() throws -> (postfix: PostfixInstance, caFile: String) {
        lock.lock()
        defer { lock.unlock() }
        if let made { return made }
        let directory = "/tmp/pftls" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        materialDirectory = directory
        atexit { TLSPostfix.removeMaterial() }
        // Throwaway material: world-readable, so Postfix reads it whatever user it runs as.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        let ca = "\(directory)/ca.crt"
        let caKey = "\(directory)/ca.key"
        let key = "\(directory)/server.key"
        let request = "\(directory)/server.csr"
        let certificate = "\(directory)/server.crt"
        let extensions = "\(directory)/server.ext"
        try "subjectAltName=DNS:upstream.test,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
            .write(toFile: extensions, atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(["req", "-x509"] + ec + ["-keyout", caKey, "-out", ca, "-days", "3", "-subj", "/CN=smtp-inspect test CA"])
        try openssl(["req"] + ec + ["-keyout", key, "-out", request, "-subj", "/CN=upstream.test"])
        try openssl([
            "x509", "-req", "-in", request, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-out", certificate, "-days", "3",
            "-extfile", extensions,
        ])
        for file in [ca, key, certificate] {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        }
        let postfix = try DedicatedPostfix.instance(
            "starttls",
            extraMainCF: [
                "smtpd_tls_cert_file = \(certificate)",
                "smtpd_tls_key_file = \(key)",
                "smtpd_tls_security_level = may",
                "smtpd_tls_loglevel = 1",
                "smtpd_tls_received_header = yes",
            ])
        made = (postfix, ca)
        return (postfix, ca)
    }

    private static func removeMaterial() {
        if let materialDirectory { try? FileManager.default.removeItem(atPath: materialDirectory) }
    }

    private static func openssl(_ arguments: [String]) throws {
        let result = try ExternalProcess.run("openssl", arguments)
        if result.status != 0 {
            Issue.record("openssl \(arguments.joined(separator: " ")) failed: \(result.error)")
            throw ExternalProcess.MissingTool(program: "openssl (failed)")
        }
    }
}
