#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers
import Synchronization

/// Whether one of the proxy's outputs (the audit log, the recording) can be written, and what is
/// said and counted when it cannot.
///
/// A failure *episode* runs from the first failed write to the next successful one. Its start and
/// its end are each one line on standard error (a disk that stays full does not flood the
/// terminal); every failed write is counted (`observe` hands the count to the metrics).
///
///     health.failed("No space left on device")   // first failure: one line on stderr
///     health.failed("No space left on device")   // counted, silent
///     health.succeeded()                         // recovery: one line on stderr
public final class OutputHealth: Sendable {
    /// What the output is, for the messages: `audit log /var/log/smtp-inspect.jsonl`.
    public let label: String
    /// What happens while it fails (appended to the first line of an episode).
    public let consequence: String
    private let failing = Atomic<Bool>(false)
    private let errors = Atomic<Int>(0)
    private let observers = NIOLockedValueBox<[@Sendable () -> Void]>([])
    private let report: @Sendable (String) -> Void

    /// `report` receives each line (default: standard error, prefixed `smtp-inspect: `).
    public init(label: String, consequence: String, report: (@Sendable (String) -> Void)? = nil) {
        self.label = label
        self.consequence = consequence
        self.report = report ?? Self.standardError
    }

    /// True from a failed write until a write succeeds again.
    public var isFailing: Bool { failing.load(ordering: .acquiring) }

    /// Failed writes so far.
    public var errorCount: Int { errors.load(ordering: .relaxed) }

    /// `observer` is called once per failed write (the metrics counter).
    public func observe(_ observer: @escaping @Sendable () -> Void) {
        observers.withLockedValue { $0.append(observer) }
    }

    /// A write failed with `reason` (strerror text).
    public func failed(_ reason: String) {
        errors.add(1, ordering: .relaxed)
        for observer in observers.withLockedValue({ $0 }) { observer() }
        if !failing.exchange(true, ordering: .acquiringAndReleasing) {
            report("\(label): write failed: \(reason); \(consequence)")
        }
    }

    /// A write succeeded; `note` is added to the recovery line (what was caught up or lost).
    public func succeeded(note: @autoclosure () -> String = "") {
        guard failing.load(ordering: .relaxed), failing.exchange(false, ordering: .acquiringAndReleasing) else { return }
        let detail = note()
        report("\(label): writable again\(detail.isEmpty ? "" : "; " + detail)")
    }

    /// One line on standard error with a single `write` (no stdio buffer that a full pipe could
    /// hold back). A failure of this write has nowhere left to be reported.
    @Sendable static func standardError(_ line: String) {
        let bytes = Array("smtp-inspect: \(line)\n".utf8)
        _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }  // stderr is the last resort
    }
}
