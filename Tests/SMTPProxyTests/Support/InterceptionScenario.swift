import Foundation
import Testing

/// One transparent-interception session for real: a `NamespaceTopology`, a Postfix in the server
/// namespace (port 25 on both server addresses), the built `smtp-inspect` in the router namespace
/// with a rule that rejects VRFY, the `diversion` rules, and a client in the client namespace
/// that only knows the server's address. Everything blocking runs on a thread of its own, and
/// everything it created is removed again, on failure too.
struct InterceptionScenario: Sendable {
    /// The proxy's listening port inside the router namespace (a fresh namespace: always free).
    static let proxyPort = 10025
    static let rules = """
        rules:
          - name: no-vrfy
            command: VRFY
            action: reject
            reply: "550 5.7.1 VRFY refused by smtp-inspect"

        """

    /// The listener's family: `0.0.0.0`, or `[::]` (which takes IPv4 clients too).
    var family: NamespaceTopology.Family
    var diversion: Diversion
    /// `--upstream original-dst`, `--transparent`, …
    var proxyFlags: [String]
    /// Where the client connects, one session after the other, all through the same proxy.
    var targets: [Target]

    enum Target: Sendable {
        /// The server's port 25 (which the router diverts) at its address of this family.
        case server(NamespaceTopology.Family)
        /// Straight to the proxy's listener at this address, from this namespace (not intercepted).
        case listener(inRouter: Bool, host: String)
    }

    /// By default one session, to the server's address of the listener's family.
    init(family: NamespaceTopology.Family, diversion: Diversion, proxyFlags: [String], targets: [Target]? = nil) {
        self.family = family
        self.diversion = diversion
        self.proxyFlags = proxyFlags
        self.targets = targets ?? [.server(family)]
    }

    /// Runs the scenario; throws when the set-up fails.
    func run() async throws -> InterceptionOutcome {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try runBlocking() })
            }.start()
        }
    }

    private func runBlocking() throws -> InterceptionOutcome {
        let topology = try NamespaceTopology()
        defer { topology.remove() }
        let postfix = try PostfixInstance(
            namespace: topology.server, addresses: [NamespaceTopology.v4.server, "[\(NamespaceTopology.v6.server)]"])
        defer { postfix.stop() }
        try diversion.install(in: topology, port: Self.proxyPort)

        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write(Self.rules, to: "rules.yaml")
        let auditPath = scratch.file("audit.jsonl")
        let listen = family == .v4 ? "0.0.0.0:\(Self.proxyPort)" : "[::]:\(Self.proxyPort)"
        let proxy = try ProxyProcess(
            ["proxy", "--listen", listen, "--filters", scratch.file("rules.yaml"), "--log", auditPath] + proxyFlags,
            namespace: topology.router)
        defer { proxy.kill() }
        try poll("smtp-inspect to listen") { proxy.standardError.contains("listening") || !proxy.isRunning }
        guard proxy.isRunning else { throw NamespaceTopology.Failure(description: "smtp-inspect exited: \(proxy.standardError)") }

        var outcome = InterceptionOutcome()
        for target in targets {
            let token = "tp-" + UUID().uuidString.lowercased()
            let (namespace, host, port) = endpoint(target, topology)
            let client = try topology.execute(in: namespace, "python3", ["-c", Self.clientScript, host, "\(port)", token])
            var dialog = InterceptionOutcome.Dialog(
                replies: client.output.split(separator: "\n").map(String.init), clientError: client.error, token: token)
            outcome.dialogs.append(dialog)
            // Conditions another process brings about: polled, each with a deadline; a timeout
            // is not an error here, the test's expectations then say what is missing.
            let sessions = outcome.dialogs.count
            _ = try? poll("\(sessions) session-end events in the audit log") {
                auditEvents(at: auditPath).filter { $0["event"] as? String == "session-end" }.count >= sessions
            }
            guard dialog.replies.first?.hasPrefix("220") == true else { continue }
            _ = try? poll("delivery", timeout: 60) { !postfix.messages(containing: token).isEmpty }
            dialog.delivered = postfix.messages(containing: token).first
            outcome.dialogs[outcome.dialogs.count - 1] = dialog
            let served = outcome.dialogs.filter { $0.replies.first?.hasPrefix("220") == true }.count
            _ = try? poll("Postfix to log \(served) disconnects") {
                postfix.log().components(separatedBy: "disconnect from").count - 1 >= served
            }
        }
        proxy.send(signal: SIGTERM)
        outcome.proxyExit = proxy.waitForExit()
        outcome.events = auditEvents(at: auditPath)
        outcome.postfixLog = postfix.log()
        outcome.proxyStandardError = proxy.standardError
        return outcome
    }

    private func endpoint(_ target: Target, _ topology: NamespaceTopology) -> (namespace: String, host: String, port: Int) {
        switch target {
        case .server(let family): (topology.client, NamespaceTopology.addresses(family).server, 25)
        case .listener(let inRouter, let host): (inRouter ? topology.router : topology.client, host, Self.proxyPort)
        }
    }

    /// Waits for `condition`, checked every 20 ms, for at most `timeout` seconds.
    private func poll(_ what: String, timeout: Double = 30, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            guard Date() < deadline else { throw NamespaceTopology.Failure(description: "timed out waiting for \(what)") }
            usleep(20_000)
        }
    }

    /// The client: greeting, EHLO, VRFY, one message, QUIT; one output line per reply (its lines
    /// joined by " | "); stops after the greeting unless it is 220.
    static let clientScript = #"""
        import socket, sys
        host, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        s = socket.create_connection((host, port), timeout=30)
        f = s.makefile("rb")
        def reply():
            lines = []
            while True:
                line = f.readline()
                if not line:
                    lines.append("<closed>")
                    break
                lines.append(line.decode("utf-8", "replace").rstrip("\r\n"))
                if len(line) < 4 or line[3:4] != b"-":
                    break
            print(" | ".join(lines), flush=True)
            return lines[0]
        def command(text):
            s.sendall(text.encode() + b"\r\n")
            return reply()
        if reply().startswith("220"):
            command("EHLO client.test")
            command("VRFY postmaster")
            command("MAIL FROM:<alice@example.net>")
            command("RCPT TO:<bob@example.org>")
            command("DATA")
            s.sendall(("From: alice@example.net\r\nTo: bob@example.org\r\nSubject: %s\r\n\r\nbody %s\r\n.\r\n" % (token, token)).encode())
            reply()
            command("QUIT")
        """#
}
