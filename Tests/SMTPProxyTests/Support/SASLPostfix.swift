import Foundation
import Testing

/// A throwaway Postfix that really authenticates: Cyrus SASL with a sasldb of two users
/// (`alice` and `otherUser`, both with `password`), AUTH PLAIN and LOGIN offered in clear. Debian's Postfix reads the SASL
/// application config from `$config_directory/sasl/smtpd.conf`; `saslpasswd2` (package
/// sasl2-bin) writes the database, which the sasldb plugin (libsasl2-modules-db) reads.
enum SASLPostfix {
    static let user = "alice"
    static let otherUser = "bob"
    static let password = "right-horse-battery"

    /// Starts it; `extraMainCF` as for `PostfixInstance`.
    static func start(extraMainCF: [String] = []) throws -> PostfixInstance {
        _ = try ExternalProcess.locate("saslpasswd2")  // sasl2-bin: fail with its name before Postfix starts
        return try PostfixInstance(
            extraMainCF: ["smtpd_sasl_auth_enable = yes", "smtpd_sasl_local_domain = upstream.test"] + extraMainCF
        ) { directory in
            let sasl = "\(directory)/conf/sasl"
            try FileManager.default.createDirectory(atPath: sasl, withIntermediateDirectories: true)
            let config = "pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: \(sasl)/sasldb2\n"
            try config.write(toFile: "\(sasl)/smtpd.conf", atomically: true, encoding: .utf8)
            for name in [user, otherUser] {
                let result = try ExternalProcess.run(
                    "saslpasswd2", ["-p", "-c", "-f", "\(sasl)/sasldb2", "-u", "upstream.test", name], input: Data(password.utf8))
                guard result.status == 0 else {
                    throw ExternalProcess.MissingTool(program: "saslpasswd2 (package sasl2-bin): \(result.error)")
                }
            }
            try FileManager.default.setAttributes([.ownerAccountName: "postfix"], ofItemAtPath: "\(sasl)/sasldb2")
        }
    }

    /// `AUTH PLAIN` with `password` for `user`: the reply.
    static func authenticate(_ client: RawSMTPClient, user: String = user, password: String) throws -> String {
        let token = Data("\0\(user)\0\(password)".utf8).base64EncodedString()
        try client.send("AUTH PLAIN \(token)\r\n")
        return try client.readReply() ?? "<closed>"
    }

    /// `AUTH LOGIN` for `user` with `password`, answering each `334`: the final reply (or the
    /// reply that ended the exchange early).
    static func authenticateByLOGIN(_ client: RawSMTPClient, user: String = user, password: String) throws -> String {
        try client.send("AUTH LOGIN\r\n")
        for answer in [user, password] {
            let challenge = try client.readReply() ?? "<closed>"
            guard challenge.hasPrefix("334") else { return challenge }
            try client.send(Data(answer.utf8).base64EncodedString() + "\r\n")
        }
        return try client.readReply() ?? "<closed>"
    }
}
