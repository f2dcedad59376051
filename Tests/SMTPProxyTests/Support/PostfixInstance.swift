import Foundation
import Testing

/// A throwaway Postfix for one test suite: its own config, queue and data directories under a
/// short /tmp path, smtpd on a free loopback port, every message for example.org/example.net
/// delivered to a Maildir the test can read back byte for byte.
///
/// `smtpd_forbid_bare_newline = no`: this Postfix is vulnerable to SMTP smuggling on purpose, so
/// the tests show that the proxy in front of it protects it.
final class PostfixInstance: @unchecked Sendable {
    let directory: String
    let port: Int
    private let process: Process
    private let logReader: BackgroundReader

    var maildir: String { "\(directory)/mail/box/new" }

    /// - Parameter namespace: run inside this network namespace (`ip netns exec`), smtpd
    ///   listening on port 25 of `addresses` (e.g. `["10.77.2.2", "[fd77:2::2]"]`) instead of a
    ///   free loopback port.
    /// - Parameter prepare: called with the instance's directory once its configuration is written,
    ///   before Postfix starts (e.g. to add `conf/sasl/smtpd.conf`).
    init(
        extraMainCF: [String] = [], namespace: String? = nil, addresses: [String] = [],
        prepare: ((String) throws -> Void)? = nil
    ) throws {
        let postfix = try ExternalProcess.locate("postfix")
        directory = "/tmp/pf" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let port = namespace == nil ? freeLoopbackPort() : 25
        self.port = port
        let placement = namespace == nil ? [] : ["inet_interfaces = all", "inet_protocols = all", "smtpd_peername_lookup = no"]
        let files = FileManager.default
        for sub in ["conf", "queue", "data", "mail"] {
            try files.createDirectory(atPath: "\(directory)/\(sub)", withIntermediateDirectories: true)
        }
        try files.setAttributes([.ownerAccountName: "postfix"], ofItemAtPath: "\(directory)/data")
        try files.setAttributes([.ownerAccountID: 65534, .groupOwnerAccountID: 65534], ofItemAtPath: "\(directory)/mail")
        let main = [
            "compatibility_level = 3.6",
            "queue_directory = \(directory)/queue",
            "data_directory = \(directory)/data",
            "meta_directory = /etc/postfix",
            "daemon_directory = /usr/lib/postfix/sbin",
            "command_directory = /usr/sbin",
            "mail_owner = postfix",
            "setgid_group = postdrop",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            "myhostname = upstream.test",
            "mydestination =",
            "virtual_mailbox_domains = example.org, example.net",
            "virtual_mailbox_base = \(directory)/mail",
            "virtual_mailbox_maps = static:box/",
            "virtual_uid_maps = static:65534",
            "virtual_gid_maps = static:65534",
            "virtual_mailbox_limit = 0",
            "message_size_limit = 104857600",
            "smtpd_forbid_bare_newline = no",
            "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
            "mynetworks = 127.0.0.0/8",
            "smtpd_banner = $myhostname ESMTP",
            "maillog_file = /dev/stdout",
            "smtpd_client_connection_count_limit = 0",
            "smtpd_client_connection_rate_limit = 0",
            "default_process_limit = 300",
            "smtpd_soft_error_limit = 1000",
            "smtpd_hard_error_limit = 1000",
            "smtpd_junk_command_limit = 100000",
        ] + placement + extraMainCF
        try (main.joined(separator: "\n") + "\n").write(toFile: "\(directory)/conf/main.cf", atomically: true, encoding: .utf8)
        let listeners = namespace == nil ? ["127.0.0.1:\(port)"] : addresses.map { "\($0):\(port)" }
        let master = listeners.map { "\($0) inet n - n - - smtpd" } + [
            "pickup unix n - n 60 1 pickup", "cleanup unix n - n - 0 cleanup", "qmgr unix n - n 300 1 qmgr",
            "tlsmgr unix - - n 1000? 1 tlsmgr", "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce", "defer unix - - n - 0 bounce", "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify", "flush unix n - n 1000? 0 flush", "proxymap unix - - n - - proxymap",
            "smtp unix - - n - - smtp", "relay unix - - n - - smtp", "showq unix n - n - - showq",
            "error unix - - n - - error", "retry unix - - n - - error", "discard unix - - n - - discard",
            "local unix - n n - - local", "virtual unix - n n - - virtual", "lmtp unix - - n - - lmtp",
            "anvil unix - - n - 1 anvil", "scache unix - - n - 1 scache", "postlog unix-dgram n - n - 1 postlogd",
        ]
        try (master.joined(separator: "\n") + "\n").write(toFile: "\(directory)/conf/master.cf", atomically: true, encoding: .utf8)
        try prepare?(directory)

        process = Process()
        let command = [postfix, "-c", "\(directory)/conf", "start-fg"]
        if let namespace {
            process.executableURL = URL(fileURLWithPath: try ExternalProcess.locate("ip"))
            process.arguments = ["netns", "exec", namespace] + command
        } else {
            process.executableURL = URL(fileURLWithPath: postfix)
            process.arguments = Array(command.dropFirst())
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        logReader = BackgroundReader(output.fileHandleForReading)
        try process.run()
        let process = process
        let started = waitUntil("postfix to listen on \(port)") {
            let listening = namespace.map { Self.listens(in: $0, port: port, count: listeners.count) } ?? ((try? RawSMTPClient(port: port)) != nil)
            return listening || !process.isRunning
        }
        if !started || !process.isRunning {
            process.terminate()
            _ = ExternalProcess.reap(process)
            let output = String(decoding: logReader.finish(), as: UTF8.self)
            Issue.record("postfix did not start: \(output)")
            throw ExternalProcess.MissingTool(program: "postfix (did not start)")
        }
    }

    /// Whether `count` sockets listen on `port` in `namespace` (asked of `ss`: no test connection
    /// that Postfix would log).
    private static func listens(in namespace: String, port: Int, count: Int) -> Bool {
        let sockets = try? ExternalProcess.run("ip", ["netns", "exec", namespace, "ss", "-Hltn", "sport = :\(port)"])
        return (sockets?.output.split(separator: "\n").count ?? 0) >= count
    }

    /// Messages delivered so far, oldest first (each as Postfix wrote it, headers included).
    func deliveredMessages() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: maildir)) ?? []
        return files.sorted().compactMap { try? String(contentsOfFile: "\(maildir)/\($0)", encoding: .utf8) }
    }

    func deliveredCount() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: maildir)) ?? []).count
    }

    /// Waits until `count` messages in total have been delivered.
    @discardableResult
    func waitForDeliveries(_ count: Int, timeout: Double = 60) -> [String] {
        _ = waitUntil("\(count) deliveries (have \(deliveredCount()))", timeout: timeout) { deliveredCount() >= count }
        return deliveredMessages()
    }

    /// Postfix's own log so far.
    func log() -> String {
        String(decoding: logReader.current, as: UTF8.self)
    }

    /// Removes delivered messages (between tests of one suite).
    func clearMailbox() {
        for file in (try? FileManager.default.contentsOfDirectory(atPath: maildir)) ?? [] {
            try? FileManager.default.removeItem(atPath: "\(maildir)/\(file)")
        }
    }

    func stop() {
        _ = try? ExternalProcess.run("postfix", ["-c", "\(directory)/conf", "stop"])
        _ = ExternalProcess.reap(process)
        _ = logReader.finish()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension PostfixInstance {
    /// One Postfix for the whole test run, stopped when the test process exits.
    static let shared: PostfixInstance = {
        let instance = try! PostfixInstance()
        sharedForExit = instance
        atexit { sharedForExit?.stop() }
        return instance
    }()

    /// Waits for the delivered message that contains `token` (tests use a unique token each).
    func waitForMessage(containing token: String, timeout: Double = 60) -> String? {
        var found: String?
        _ = waitUntil("a delivered message containing \(token)", timeout: timeout) {
            found = deliveredMessages().first { $0.contains(token) }
            return found != nil
        }
        return found
    }

    /// Delivered messages containing `token`.
    func messages(containing token: String) -> [String] {
        deliveredMessages().filter { $0.contains(token) }
    }
}

nonisolated(unsafe) private var sharedForExit: PostfixInstance?
