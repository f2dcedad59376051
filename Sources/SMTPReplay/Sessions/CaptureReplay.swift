import PcapCapture
import SMTPCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Replays one capture file: packets → TCP segments → reassembled streams → SMTP sessions →
/// audit events.
///
///     let replay = CaptureReplay(path: "captures/mail.pcap", options: ReplayOptions(policy: rules))
///     do {
///         let summary = try replay.run { events in for event in events { print(event.jsonLine) } }
///     } catch {
///         // truncated or corrupt: the sessions before the damage were already emitted
///         print(error)   // one line
///     }
///
/// Events are handed over in batches as the capture is read (in capture order), so memory
/// does not grow with the file. Session ids are `<file name>#<n>`, `source` is `<path>#<n>`.
public struct CaptureReplay: Sendable {
    public let path: String
    public let options: ReplayOptions
    /// How often `progress` is called, in packets.
    public var progressInterval = 4_096

    public init(path: String, options: ReplayOptions = ReplayOptions()) {
        self.path = path
        self.options = options
    }

    /// The name sessions are called by: the file's last path component (`stdin` for `-`).
    public var sessionPrefix: String {
        path == "-" ? "stdin" : path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
    }

    /// The capture as `source` names it: the path as given (`stdin` for `-`).
    public var sourceName: String { path == "-" ? "stdin" : path }

    /// Reads the whole capture; `emit` receives the events, `progress` the reading position.
    ///
    /// - Throws: `ReplayError` when the file cannot be opened (nothing was emitted) or is damaged
    ///   part-way (everything before the damage was emitted, open sessions finished).
    @discardableResult
    public func run(
        emit: ([AuditEvent]) -> Void, progress: (ReplayProgress) -> Void = { _ in }
    ) throws(ReplayError) -> ReplaySummary {
        var driver = ReplayDriver(source: sourceName, sessionPrefix: sessionPrefix, options: options)
        var events: [AuditEvent] = []
        events.reserveCapacity(64)
        let totalBytes = Self.fileSize(path)
        let outcome = try CapturePacketLoop(path: path).run(
            segment: { segment, summary in
                driver.process(segment, into: &events)
                if !events.isEmpty {
                    summary.events += events.count
                    emit(events)
                    events.removeAll(keepingCapacity: true)
                }
            },
            packetRead: { summary, fileOffset in
                if summary.packets % progressInterval == 0 {
                    progress(ReplayProgress(path: path, bytesRead: fileOffset ?? 0, totalBytes: totalBytes, packets: summary.packets))
                }
            }
        )
        var summary = outcome.summary
        driver.finish(into: &events)
        if !events.isEmpty {
            summary.events += events.count
            emit(events)
        }
        summary.smtpSessions = driver.smtpSessions
        summary.reassembly = driver.reassemblyStatistics
        progress(ReplayProgress(path: path, bytesRead: totalBytes ?? outcome.finalOffset ?? 0, totalBytes: totalBytes, packets: summary.packets))
        if let damage = outcome.damage { throw ReplayError(damage, summary: summary) }
        return summary
    }

    /// Every event of the file at once (tests, small files).
    public func events() throws(ReplayError) -> [AuditEvent] {
        var all: [AuditEvent] = []
        try run { all.append(contentsOf: $0) }
        return all
    }

    static func fileSize(_ path: String) -> Int64? {
        var status = stat()
        guard path != "-", stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(status.st_size)
    }
}
