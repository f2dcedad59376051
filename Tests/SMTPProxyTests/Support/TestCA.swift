import Foundation
import Testing

/// A throwaway certificate authority made with `openssl` for one test run, and the certificates
/// it issues (EC P-256, valid 3 days). Files are world-readable so Postfix can read them whatever
/// user it runs as; the directory is removed when the test process exits.
struct TestCA: Sendable {
    let directory: String
    let certificate: String
    private let key: String

    /// A certificate and its key, as PEM files.
    struct Issued: Sendable {
        let certificate: String
        let key: String
    }

    init(name: String) throws {
        directory = "/tmp/tca" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        TestCA.removeAtExit(directory)
        certificate = "\(directory)/ca.crt"
        key = "\(directory)/ca.key"
        try Self.openssl(
            ["req", "-x509"] + Self.newKey + ["-keyout", key, "-out", certificate, "-days", "3", "-subj", "/CN=\(name)"])
        try Self.makeReadable(certificate)
    }

    /// Issues a server certificate for `commonName`, valid for `localhost`, 127.0.0.1 and `names`.
    func issue(_ commonName: String, names: [String] = []) throws -> Issued {
        let base = "\(directory)/\(commonName)"
        let extensions = "\(base).ext"
        let alternatives = (["DNS:\(commonName)", "DNS:localhost", "IP:127.0.0.1"] + names.map { "DNS:\($0)" }).joined(separator: ",")
        try "subjectAltName=\(alternatives)\nextendedKeyUsage=serverAuth\n".write(toFile: extensions, atomically: true, encoding: .utf8)
        let issued = Issued(certificate: "\(base).crt", key: "\(base).key")
        try Self.openssl(["req"] + Self.newKey + ["-keyout", issued.key, "-out", "\(base).csr", "-subj", "/CN=\(commonName)"])
        try Self.openssl([
            "x509", "-req", "-in", "\(base).csr", "-CA", certificate, "-CAkey", key, "-CAcreateserial", "-out", issued.certificate,
            "-days", "3", "-extfile", extensions,
        ])
        try Self.makeReadable(issued.certificate)
        try Self.makeReadable(issued.key)
        return issued
    }

    private static let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    private static func makeReadable(_ file: String) throws {
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
    }

    private static func openssl(_ arguments: [String]) throws {
        let result = try ExternalProcess.run("openssl", arguments)
        if result.status != 0 {
            Issue.record("openssl \(arguments.joined(separator: " ")) failed: \(result.error)")
            throw ExternalProcess.MissingTool(program: "openssl (failed)")
        }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var directories: [String] = []

    private static func removeAtExit(_ directory: String) {
        lock.lock()
        defer { lock.unlock() }
        if directories.isEmpty {
            atexit {
                for directory in TestCA.directories { try? FileManager.default.removeItem(atPath: directory) }
            }
        }
        directories.append(directory)
    }
}
