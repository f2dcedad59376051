import Foundation
import Testing

/// A throwaway Postfix on loopback, started with the repository's `scripts/postfix-sandbox`
/// (smuggling-vulnerable on purpose: `smtpd_forbid_bare_newline = no`, as in the captures).
/// Needs root and the Debian `postfix` package; a missing tool is a test failure, never a skip.
///
///     let postfix = try PostfixSandbox(extra: ["smtpd_recipient_restrictions = reject"])
///     … 127.0.0.1:\(postfix.port) …
///     postfix.stop()
///
/// `extra` lines are appended to main.cf (`POSTFIX_EXTRA`); with `ipv6` it also listens on
/// `[::1]`; with `tls` it offers STARTTLS with a fresh self-signed certificate.
final class PostfixSandbox: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Short and world-traversable, as Postfix needs (socket paths must fit in 108 bytes).
    let directory: String
    let port: Int
    private let lock = NSLock()
    private var stopped = false

    static let script = Corpus.repository + "/scripts/postfix-sandbox"

    init(extra: [String] = [], ipv6: Bool = false, tls: Bool = false) throws {
        directory = "/tmp/pf" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        port = freeLoopbackPort()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        var extra = extra
        if tls {
            let status = try Self.run(
                "/usr/bin/env",
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(directory)/key.pem", "-out", "\(directory)/cert.pem",
                 "-days", "2", "-subj", "/CN=upstream.test"])
            guard status == 0 else { throw Failure(description: "openssl could not make a certificate: install the Debian package 'openssl'") }
            for file in ["key.pem", "cert.pem"] {
                try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: "\(directory)/\(file)")
            }
            extra += [
                "smtpd_tls_cert_file = \(directory)/cert.pem", "smtpd_tls_key_file = \(directory)/key.pem", "smtpd_tls_security_level = may",
            ]
        }
        var environment = ProcessInfo.processInfo.environment
        environment["POSTFIX_EXTRA"] = extra.joined(separator: "\n")
        if ipv6 { environment["POSTFIX_IPV6"] = "1" }
        guard FileManager.default.fileExists(atPath: "/usr/sbin/postfix") else {
            throw Failure(description: "postfix not found: install the Debian package 'postfix' (and run the tests as root)")
        }
        let status = try Self.run("/bin/bash", [Self.script, "start", directory, String(port)], environment: environment)
        guard status == 0 else {
            let log = (try? String(contentsOfFile: "\(directory)/maillog", encoding: .utf8)) ?? ""
            throw Failure(description: "scripts/postfix-sandbox start failed (status \(status); root needed): \(log.suffix(2000))")
        }
        PostfixSandbox.register(self)
    }

    /// `host:port` on 127.0.0.1.
    var address: String { "127.0.0.1:\(port)" }

    /// Postfix's log so far.
    func log() -> String {
        (try? String(contentsOfFile: "\(directory)/maillog", encoding: .utf8)) ?? ""
    }

    func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        _ = try? Self.run("/bin/bash", [Self.script, "stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Int32 {
        try Spawn.run(executable, arguments, environment: environment ?? ProcessInfo.processInfo.environment)
    }

    // MARK: - Shared instances, stopped when the test process exits

    private nonisolated(unsafe) static var running: [PostfixSandbox] = []
    private static let registryLock = NSLock()

    private static func register(_ instance: PostfixSandbox) {
        registryLock.lock()
        defer { registryLock.unlock() }
        if running.isEmpty {
            atexit {
                PostfixSandbox.registryLock.lock()
                let all = PostfixSandbox.running
                PostfixSandbox.registryLock.unlock()
                for instance in all { instance.stop() }
            }
        }
        running.append(instance)
    }

    /// The captures' server: STARTTLS offered, IPv4 and IPv6, smuggling-vulnerable.
    static let plain = Result { try PostfixSandbox(ipv6: true, tls: true) }
    /// A server that refuses every recipient (`smtpd_recipient_restrictions = reject`).
    static let refusing = Result { try PostfixSandbox(extra: ["smtpd_recipient_restrictions = reject"]) }
    /// A server fixed against SMTP smuggling: bare <LF> is not taken as a line end, for every client.
    static let fixed = Result {
        try PostfixSandbox(extra: ["smtpd_forbid_bare_newline = yes", "smtpd_forbid_bare_newline_exclusions ="])
    }
}
