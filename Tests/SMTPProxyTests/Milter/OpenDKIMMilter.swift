import Foundation

/// OpenDKIM signing (and verifying) for `example.test` with selector `sel`, a key made by
/// opendkim-genkey in its scratch directory.
struct OpenDKIMMilter {
    let daemon: MilterDaemon
    let port: Int
    /// Set for `dedicated(unixSocket: true)`: the path of its unix socket (and `port` is unused).
    let socketPath: String?
    static let domain = "example.test"
    static let selector = "sel"

    /// The shared instance; `dedicated()` makes one of its own (for the tests that kill it).
    static func shared() throws -> OpenDKIMMilter {
        try MilterDaemons.shared("opendkim", { try OpenDKIMMilter() }, stop: { $0.daemon.stop() })
    }

    static func dedicated(unixSocket: Bool = false) throws -> OpenDKIMMilter { try OpenDKIMMilter(unixSocket: unixSocket) }

    private init(unixSocket: Bool = false) throws {
        let directory = try ScratchDirectory()
        port = freeLoopbackPort()
        socketPath = unixSocket ? directory.file("opendkim.sock") : nil
        let generated = try ExternalProcess.run(
            "opendkim-genkey", ["-D", directory.path, "-d", Self.domain, "-s", Self.selector])
        guard generated.status == 0 else { throw ExternalProcess.MissingTool(program: "opendkim-genkey: \(generated.error)") }
        try directory.write(
            """
            Domain \(Self.domain)
            Selector \(Self.selector)
            KeyFile \(directory.file("\(Self.selector).private"))
            Socket \(socketPath.map { "local:\($0)" } ?? "inet:\(port)@127.0.0.1")
            Mode sv
            Canonicalization relaxed/simple
            RequireSafeKeys false
            Background false
            Syslog false
            InternalHosts 127.0.0.1
            PidFile \(directory.file("opendkim.pid"))

            """, to: "opendkim.conf")
        daemon = try MilterDaemon(
            "opendkim", program: "opendkim", arguments: ["-f", "-x", directory.file("opendkim.conf")], directory: directory,
            ports: socketPath == nil ? [port] : [], sockets: socketPath.map { [$0] } ?? [])
    }

    /// The public key's DNS TXT record (`v=DKIM1; k=rsa; p=…`), from opendkim-genkey's `sel.txt`.
    var publicKeyRecord: String {
        let text = (try? String(contentsOfFile: daemon.directory.file("\(Self.selector).txt"), encoding: .utf8)) ?? ""
        // The file holds the record as quoted strings inside `( … )`: join them.
        var record = ""
        var inQuote = false
        for character in text {
            if character == "\"" {
                inQuote.toggle()
            } else if inQuote {
                record.append(character)
            }
        }
        return record
    }

    /// Verifies `message` with dkimpy against this key (no DNS): dkimpy's own output, and whether
    /// it verified.
    func verify(_ message: Data) throws -> (verified: Bool, output: String) {
        let script = """
            import sys, dkim
            record = sys.argv[1].encode()
            message = sys.stdin.buffer.read()
            def dns(name, timeout=5):
                return record if name == b"\(Self.selector)._domainkey.\(Self.domain)." else None
            result = dkim.verify(message, dnsfunc=dns)
            print("dkim.verify:", result)
            sys.exit(0 if result else 1)
            """
        let result = try ExternalProcess.run("python3", ["-c", script, publicKeyRecord], input: message)
        return (result.status == 0, result.output + result.error)
    }
}
