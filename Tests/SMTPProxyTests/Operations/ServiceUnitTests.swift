import Foundation
import Testing

/// `deploy/systemd/smtp-inspect.service` with its example `smtp-inspect.env`: systemd accepts the
/// unit, and the command line it builds runs the real binary — listening, serving metrics,
/// reloading on its ExecReload signal and draining on its KillSignal.
@Suite("ServiceUnit: the systemd unit", .serialized)
struct ServiceUnitTests {
    static let unitPath = ProxyHarness.repositoryRoot + "/deploy/systemd/smtp-inspect.service"
    static let environmentPath = ProxyHarness.repositoryRoot + "/deploy/systemd/smtp-inspect.env"

    /// The unit as installed, but with the binary of this build and the example environment file.
    static func localUnit(in scratch: ScratchDirectory) throws -> String {
        let binary = try ProxyProcess.binaryPath()
        var text = try String(contentsOfFile: unitPath, encoding: .utf8)
        text = text.replacingOccurrences(of: "ExecStart=/usr/local/bin/smtp-inspect ", with: "ExecStart=\(binary) ")
        text = text.replacingOccurrences(of: "EnvironmentFile=/etc/smtp-inspect/smtp-inspect.env", with: "EnvironmentFile=\(environmentPath)")
        try scratch.write(text, to: "smtp-inspect.service")
        return scratch.file("smtp-inspect.service")
    }

    @Test func systemdAnalyzeVerifiesTheUnit() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let unit = try Self.localUnit(in: scratch)
        #expect(try String(contentsOfFile: unit, encoding: .utf8).contains(try ProxyProcess.binaryPath()), "ExecStart path not replaced")
        let result = try ExternalProcess.run("systemd-analyze", ["verify", "--man=no", unit])
        // Unknown keys and bad values are warnings on stderr with exit status 0: both must be clean.
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.isEmpty, "\(result.error)")
    }

    @Test func unitHasTheServiceSettings() throws {
        let unit = try SystemdUnit(path: Self.unitPath)
        #expect(unit.value("Service", "Type") == "simple")
        #expect(unit.value("Service", "ExecReload") == "/bin/kill -HUP $MAINPID")
        #expect(unit.value("Service", "KillSignal") == "SIGTERM")
        #expect(unit.value("Service", "Restart") == "on-failure")
        let stop = try #require(unit.value("Service", "TimeoutStopSec").flatMap { Int($0) })
        #expect(stop > 300, "TimeoutStopSec must outlast --idle-timeout (300 s) so sessions can drain")
        #expect(unit.value("Service", "RestrictAddressFamilies") == "AF_INET AF_INET6 AF_UNIX")
        #expect(unit.value("Service", "AmbientCapabilities") == "CAP_NET_BIND_SERVICE")
        for key in ["NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules",
            "ProtectControlGroups", "RestrictNamespaces", "LockPersonality", "MemoryDenyWriteExecute", "DynamicUser"]
        {
            #expect(unit.value("Service", key) == "yes", "\(key)")
        }
        #expect(unit.value("Service", "ProtectSystem") == "strict")
        #expect(unit.values("Service", "SystemCallFilter").first == "@system-service")
    }

    /// The example environment as shipped (port 25, /etc paths…) passes the binary's validation:
    /// only the filters path is swapped for a missing one, so the run stops at loading rules —
    /// after every flag was parsed and validated (a usage error would be reported instead), and
    /// before anything binds.
    @Test func exampleEnvironmentPassesValidation() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var environment = try SystemdUnit.environmentFile(Self.environmentPath)
        environment["LOGS_DIRECTORY"] = scratch.path
        environment["SMTP_INSPECT_FILTERS"] = scratch.file("no-such-filters")
        let arguments = try Self.arguments(environment: environment)
        let result = try ProxyProcess.runToExit(arguments)
        #expect(result.status == 2, "\(arguments): exit \(String(describing: result.status)); stderr: \(result.error)")
        let lines = result.error.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("no-such-filters"), "\(arguments): stderr: \(result.error)")
    }

    /// ExecStart with the example environment (addresses and paths moved to this machine's test
    /// ports): a delivered message, `/metrics`, ExecReload's SIGHUP, KillSignal's SIGTERM → exit 0.
    @Test func execStartRunsTheProxy() async throws {
        let postfix = PostfixInstance.shared
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var environment = try SystemdUnit.environmentFile(Self.environmentPath)
        environment["LOGS_DIRECTORY"] = scratch.path
        environment["SMTP_INSPECT_LISTEN"] = "127.0.0.1:0"
        environment["SMTP_INSPECT_UPSTREAM"] = "127.0.0.1:\(postfix.port)"
        environment["SMTP_INSPECT_METRICS"] = "127.0.0.1:0"
        environment["SMTP_INSPECT_FILTERS"] = ProxyHarness.shippedFilters
        let proxy = try ProxyProcess(try Self.arguments(environment: environment))
        defer { proxy.kill() }
        try proxy.waitUntilListening()
        let listenPort = try #require(proxy.listeningPort())
        let metricsPort = try #require(proxy.metricsPort())

        try sendMessage(OperationsClient(port: listenPort), token: opsToken("unit"))
        let log = scratch.path + "/audit.jsonl"
        #expect(waitUntil("the session-end in ${LOGS_DIRECTORY}/audit.jsonl") { auditEvents(at: log).named("session-end").count == 1 })
        #expect(try MetricsScrape.metrics(port: metricsPort).value("smtp_inspect_sessions_started_total") == 1)

        let unit = try SystemdUnit(path: Self.unitPath)
        #expect(unit.value("Service", "ExecReload")?.contains("-HUP") == true)
        proxy.send(signal: SIGHUP)
        #expect(proxy.waitForStandardError(containing: "rules reloaded"))
        #expect(proxy.isRunning)
        proxy.send(signal: SIGTERM)
        #expect(proxy.waitForExit() == 0, "stderr: \(proxy.standardError)")
    }

    /// ExecStart's arguments after the program path, with `environment` substituted.
    static func arguments(environment: [String: String]) throws -> [String] {
        let unit = try SystemdUnit(path: unitPath)
        let command = try #require(unit.value("Service", "ExecStart"))
        let words = try SystemdUnit.expand(command, environment: environment)
        #expect(words.first == "/usr/local/bin/smtp-inspect")
        return Array(words.dropFirst())
    }
}
