import Foundation
import Logging
import NIOCore
import SMTPCore
import SMTPProxy
import Testing

/// The proxy under test, in process, on a free loopback port, with its audit log in a file.
final class ProxyHarness: @unchecked Sendable {
    let server: ProxyServer
    let port: Int
    let logPath: String
    let rulesDirectory: String

    /// `rules`: YAML text for one rule file (nil: no rules, pure audit); `filterPaths`: rule
    /// files or directories on disk.
    init(
        upstreamPort: Int, rules: String? = nil, filterPaths: [String] = [], dryRun: Bool = false, tlsMode: TLSMode = .passthrough,
        maxConnections: Int = 10_000, timeouts: ProxyTimeouts = ProxyTimeouts(), upstreamHost: String = "127.0.0.1",
        recordPath: String? = nil, tls: TLSSettings = TLSSettings(), metrics: HostAndPort? = nil,
        proxyProtocol: ProxyProtocolSettings = ProxyProtocolSettings(), xclient: Bool = false
    ) async throws {
        rulesDirectory = NSTemporaryDirectory() + "smtp-inspect-rules-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: rulesDirectory, withIntermediateDirectories: true)
        logPath = rulesDirectory + "/audit.jsonl"
        var paths = filterPaths
        if let rules {
            try rules.write(toFile: rulesDirectory + "/rules.yaml", atomically: true, encoding: .utf8)
            paths = [rulesDirectory + "/rules.yaml"]
        }
        var configuration = ProxyConfiguration(
            listen: HostAndPort(host: "127.0.0.1", port: 0),
            upstream: HostAndPort(host: upstreamHost, port: upstreamPort),
            filterPaths: paths,
            dryRun: dryRun,
            tlsMode: tlsMode,
            tls: tls,
            maxConnections: maxConnections,
            timeouts: timeouts,
            threads: 2,
            metrics: metrics,
            proxyProtocol: proxyProtocol
        )
        configuration.xclient = xclient
        var logger = Logger(label: "proxy-test")
        logger.logLevel = .warning
        server = try ProxyServer(
            configuration: configuration,
            policies: try PolicyStore(paths: paths, consultants: ProxyConsultants.factory(metrics: nil, dryRun: dryRun)),
            auditLog: try AuditLogWriter(path: logPath),
            logger: logger,
            recording: try recordPath.map { try CaptureFile(path: $0) }
        )
        port = try await server.start().port!
    }

    /// The repository's root directory.
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// The shipped rule directory, `filters/`.
    static var shippedFilters: String { repositoryRoot + "/filters" }

    /// Every audit event written so far, parsed.
    func events() -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    func events(_ name: String) -> [[String: Any]] {
        events().filter { $0["event"] as? String == name }
    }

    /// Waits until `count` sessions have ended (their `session-end` is in the log).
    @discardableResult
    func waitForSessionEnds(_ count: Int, timeout: Double = 30) -> [[String: Any]] {
        _ = waitUntil("\(count) session-end events", timeout: timeout) { events("session-end").count >= count }
        return events()
    }

    func stop() async {
        await server.shutdown()
        try? FileManager.default.removeItem(atPath: rulesDirectory)
    }
}
