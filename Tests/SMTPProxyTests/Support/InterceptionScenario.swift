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

    var family: NamespaceTopology.Family
    var diversion: Diversion
    /// `--upstream original-dst`, `--transparent`, …
    var proxyFlags: [String]
    /// Where the client connects (default: the server's port 25, which the router diverts).
    var target: Target = .server

    enum Target: Sendable {
        case server
        /// Straight to the proxy's listener at this address, from this namespace (not intercepted).
        case listener(inRouter: Bool, host: String)
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

        let token = "tp-" + UUID().uuidString.lowercased()
        let (namespace, host, port) = endpoint(topology)
        let dialog = try topology.execute(in: namespace, "python3", ["-c", Self.clientScript, host, "\(port)", token])
        let replies = dialog.output.split(separator: "\n").map(String.init)

        var outcome = InterceptionOutcome(replies: replies, clientError: dialog.error, token: token)
        // Conditions another process brings about: polled, each with a deadline; a timeout is
        // not an error here, the test's expectations then say what is missing.
        outcome.sessionEnded = (try? poll("session-end in the audit log") {
            auditEvents(at: auditPath).contains { $0["event"] as? String == "session-end" }
        }) != nil
        if replies.first?.hasPrefix("220") == true {
            outcome.delivered = postfix.deliveredMessages().first { $0.contains(token) }
            if outcome.delivered == nil, (try? poll("delivery", timeout: 60) { postfix.messages(containing: token).count > 0 }) != nil {
                outcome.delivered = postfix.messages(containing: token).first
            }
            _ = try? poll("Postfix to log the disconnect") { postfix.log().contains("disconnect from") }
        }
        proxy.send(signal: SIGTERM)
        outcome.proxyExit = proxy.waitForExit()
        outcome.events = auditEvents(at: auditPath)
        outcome.postfixLog = postfix.log()
        outcome.proxyStandardError = proxy.standardError
        return outcome
    }

    private func endpoint(_ topology: NamespaceTopology) -> (namespace: String, host: String, port: Int) {
        switch target {
        case .server: (topology.client, NamespaceTopology.addresses(family).server, 25)
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
