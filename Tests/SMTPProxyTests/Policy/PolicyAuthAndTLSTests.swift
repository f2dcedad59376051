import Foundation
import SMTPCore
import SMTPProxy
import Testing

/// `sasl_method`, `sasl_username` and `encryption_*` (SPEC §11) after AUTH inside a terminated
/// TLS session, against the judges that know them: the upstream Postfix itself asks its own
/// recording policy server about the same RCPT of the same session (its view of the AUTH and of
/// its TLS leg), and the client (openssl) prints the version and cipher it negotiated with the
/// proxy.
@Suite(.serialized) struct PolicyAuthAndTLSTests {
    /// One session through `proxy`: STARTTLS, EHLO, AUTH PLAIN as `user`, MAIL, RCPT, QUIT;
    /// openssl's output (replies, then its `-brief` summary).
    static func session(port: Int, caFile: String, user: String, password: String) throws -> ExternalProcess.Result {
        let token = Data("\0\(user)\0\(password)".utf8).base64EncodedString()
        // s_client sends each line as it reads it; the proxy holds what follows AUTH until the
        // upstream answered it (and Postfix takes pipelined commands anyway).
        let input = "EHLO openssl.test\nAUTH PLAIN \(token)\nMAIL FROM:<alice@example.net>\nRCPT TO:<bob@example.org>\nQUIT\n"
        return try ExternalProcess.run(
            "openssl",
            [
                "s_client", "-starttls", "smtp", "-connect", "127.0.0.1:\(port)", "-CAfile", caFile, "-verify_return_error",
                "-verify_hostname", "proxy.test", "-crlf", "-brief", "-ign_eof",
            ],
            input: Data(input.utf8))
    }

    /// `name: value` from openssl's `-brief` summary (`Protocol version: TLSv1.3`, `Ciphersuite: …`).
    static func summary(_ output: String, _ name: String) -> String? {
        for line in output.components(separatedBy: "\n") where line.hasPrefix(name + ":") {
            return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    @Test func afterAuthInsideTerminatedTLSTheRequestNamesTheUserAndTheClientsCipher() async throws {
        let ours = try FakePolicyServer(.answer { _ in "DUNNO" })
        defer { ours.stop() }
        let postfixs = try FakePolicyServer(.answer { _ in "DUNNO" })
        defer { postfixs.stop() }
        let ca = try TestCA(name: "smtp-inspect policy TLS CA")
        let upstreamCertificate = try ca.issue("upstream.test")
        let proxyCertificate = try ca.issue("proxy.test")
        let postfix = try SASLPostfix.start(extraMainCF: [
            "smtpd_tls_cert_file = \(upstreamCertificate.certificate)", "smtpd_tls_key_file = \(upstreamCertificate.key)",
            "smtpd_tls_security_level = may", "smtpd_peername_lookup = no",
            "smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:\(postfixs.port)",
        ])
        defer { postfix.stop() }
        let proxy = try await ProxyHarness(
            upstreamPort: postfix.port,
            rules: """
                rules:
                  - name: pol
                    command: RCPT
                    action: policy
                    service: inet:127.0.0.1:\(ours.port)
                """,
            tlsMode: .terminate,
            tls: TLSSettings(certificatePath: proxyCertificate.certificate, keyPath: proxyCertificate.key, upstreamCAPath: ca.certificate))
        defer { Task { await proxy.stop() } }

        // The identity qualified with the realm: Cyrus (`smtpd_sasl_local_domain`) reports a bare
        // `alice` as `alice@upstream.test`, a canonical form only the upstream knows; the proxy
        // reports the identity as the client sent it.
        let login = SASLPostfix.user + "@upstream.test"
        let client = try Self.session(port: proxy.port, caFile: ca.certificate, user: login, password: SASLPostfix.password)
        let transcript = client.output + client.error
        #expect(transcript.contains("235 "), "AUTH through the proxy: \(transcript)")
        #expect(transcript.contains("250 2.1.5"), "RCPT accepted: \(transcript)")
        _ = proxy.waitForSessionEnds(1)

        let mine = try #require(ours.requests.first, "the proxy asked its policy server")
        let theirs = try #require(postfixs.requests.first, "Postfix asked its policy server")
        func value(_ request: [(String, String)], _ name: String) -> String? { request.first { $0.0 == name }?.1 }

        // The AUTH, as Postfix saw it from the same client through the proxy.
        #expect(value(mine, "sasl_method") == "PLAIN")
        #expect(value(mine, "sasl_username") == login)
        for name in ["sasl_method", "sasl_username", "protocol_state", "recipient"] {
            #expect(value(mine, name) == value(theirs, name), "\(name): ours '\(value(mine, name) ?? "-")', Postfix '\(value(theirs, name) ?? "-")'")
        }
        // The client leg's TLS, as the client saw it.
        let version = try #require(Self.summary(transcript, "Protocol version"), "\(transcript)")
        let cipher = try #require(Self.summary(transcript, "Ciphersuite"), "\(transcript)")
        #expect(value(mine, "encryption_protocol") == version)
        #expect(value(mine, "encryption_cipher") == cipher)
        let bits = try #require(Int(value(mine, "encryption_keysize") ?? ""))
        #expect(bits == (cipher.contains("128") ? 128 : 256), "\(cipher): \(bits) bits")
        // Postfix names its own leg's TLS the same way (same version; when both legs chose the
        // same suite, the same name and key size).
        #expect(value(theirs, "encryption_protocol") == version)
        if value(theirs, "encryption_cipher") == cipher {
            #expect(value(theirs, "encryption_keysize") == String(bits))
        }
        print("ours:    " + mine.filter { $0.0.hasPrefix("sasl_") || $0.0.hasPrefix("encryption_") }.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
        print("Postfix: " + theirs.filter { $0.0.hasPrefix("sasl_") || $0.0.hasPrefix("encryption_") }.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
    }

    /// Without TLS and before AUTH, the attributes stay as Postfix sends them then: empty, `0`.
    @Test func inClearWithoutAuthTheAttributesAreEmpty() async throws {
        let ours = try FakePolicyServer(.answer { _ in "DUNNO" })
        defer { ours.stop() }
        let postfix = try SASLPostfix.start()
        defer { postfix.stop() }
        let proxy = try await ProxyHarness(
            upstreamPort: postfix.port,
            rules: "rules:\n  - name: pol\n    command: RCPT\n    action: policy\n    service: inet:127.0.0.1:\(ours.port)\n")
        defer { Task { await proxy.stop() } }
        let smtp = try RawSMTPClient(port: proxy.port)
        _ = try smtp.readReply()
        for line in ["EHLO client.test", "MAIL FROM:<alice@example.net>", "RCPT TO:<bob@example.org>", "QUIT"] {
            try smtp.send(line + "\r\n")
            _ = try smtp.readReply()
        }
        let mine = try #require(ours.requests.first)
        let attributes = Dictionary(mine, uniquingKeysWith: { first, _ in first })
        #expect(attributes["sasl_method"] == "" && attributes["sasl_username"] == "")
        #expect(attributes["encryption_protocol"] == "" && attributes["encryption_cipher"] == "" && attributes["encryption_keysize"] == "0")
    }
}
