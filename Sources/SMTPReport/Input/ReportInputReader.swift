import Foundation
import SMTPCore
import SMTPReplay

/// Reads report inputs into audit events: a JSON-lines audit log line by line, a capture through
/// the replay engine (`CaptureReplay`) with the given rules. A capture's events go through their
/// JSON line too, so both kinds of input reach the report as the same `LoggedEvent`s — exactly
/// what the log would say, AUTH secrets already redacted.
public struct ReportInputReader: Sendable {
    public var options: ReplayOptions

    public init(options: ReplayOptions = ReplayOptions()) {
        self.options = options
    }

    /// Every event of `path`, in file order.
    ///
    /// - Throws: `ReportError` for a missing or unreadable file, a file that is neither a log nor
    ///   a capture, a line that is not an audit event, or a damaged capture.
    public func events(of path: String) throws(ReportError) -> [LoggedEvent] {
        try read(path).events
    }

    /// The events of `path`, and whether it was a capture.
    func read(_ path: String) throws(ReportError) -> (events: [LoggedEvent], isCapture: Bool) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ReportError("\(path): cannot open (\(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"))")
        }
        let prefix = [UInt8](handle.readData(ofLength: 64))
        try? handle.close()  // read-only: the 64 octets are read, a failed close loses nothing
        switch InputKind(prefix: prefix) {
        case .capture:
            return (try captureEvents(path), true)
        case .auditLog:
            return (try logEvents(path), false)
        case nil:
            throw ReportError("\(path): neither a JSON-lines audit log nor a pcap/pcapng capture")
        }
    }

    private func captureEvents(_ path: String) throws(ReportError) -> [LoggedEvent] {
        let decoder = JSONDecoder()
        var events: [LoggedEvent] = []
        var failure: String?
        do {
            try CaptureReplay(path: path, options: options).run { batch in
                for event in batch where failure == nil {
                    do {
                        events.append(try decoder.decode(LoggedEvent.self, from: Data(event.jsonLine.utf8)))
                    } catch {
                        failure = "\(path): internal error: an event did not read back (\(error))"
                    }
                }
            }
        } catch {
            throw ReportError("\(path): \(error.description)")
        }
        if let failure { throw ReportError(failure) }
        return events
    }

    private func logEvents(_ path: String) throws(ReportError) -> [LoggedEvent] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ReportError("\(path): cannot read (\(error.localizedDescription))")
        }
        let decoder = JSONDecoder()
        var events: [LoggedEvent] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            do {
                events.append(try decoder.decode(LoggedEvent.self, from: Data(line)))
            } catch {
                throw ReportError("\(path):\(lineNumber): not an audit event (expected a JSON object with ts, session and event)")
            }
        }
        return events
    }
}
