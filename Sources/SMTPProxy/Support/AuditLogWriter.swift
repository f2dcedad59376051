#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers
import SMTPCore

/// Writes audit events as JSON lines to a file or standard output, from any event loop.
///
/// Lines are buffered and written in batches; they reach the file when the buffer fills, on a
/// 200 ms timer (see `ProxyServer`), when the last open session ends (`write(_:flush:)`) and at
/// shutdown — so the log is complete when the proxy stops or goes idle, and a busy proxy does not
/// pay a write system call per session.
///
/// Every write is checked. When one fails (a full disk, an I/O error) the bytes not written stay
/// in the buffer, `health` reports the episode (one line on standard error, a counter) and the
/// 200 ms timer retries them in order: nothing is lost while the backlog stays within
/// `backlogLimit`. Beyond it, new lines are dropped whole and counted (`droppedLines`, reported on
/// recovery and at close). `--audit-failure tempfail` refuses new mail while `health.isFailing`.
public final class AuditLogWriter: Sendable {
    /// Octets kept while the log cannot be written (16 MiB: some 80,000 lines).
    public static let defaultBacklogLimit = 16 << 20
    /// Buffered octets that trigger a write while the log is healthy.
    static let batchSize = 1 << 16

    private struct State {
        /// -1: discarding (tests that do not read the log).
        var descriptor: Int32
        /// Octets not yet written, oldest first.
        var pending: [UInt8] = []
        /// Lines dropped because the backlog was full, since the last report.
        var droppedLines = 0
        var totalDroppedLines = 0
    }

    public let path: String
    public let health: OutputHealth
    public let backlogLimit: Int
    private let ownsDescriptor: Bool
    private let state: NIOLockedValueBox<State>

    /// `-` means standard output. Throws when the file cannot be opened for appending.
    public init(path: String, backlogLimit: Int = AuditLogWriter.defaultBacklogLimit, health: OutputHealth? = nil) throws {
        self.path = path
        self.backlogLimit = backlogLimit
        self.health = health ?? OutputHealth(
            label: "audit log \(path == "-" ? "(standard output)" : path)",
            consequence: "lines are kept in memory and retried")
        if path == "-" {
            ownsDescriptor = false
            state = NIOLockedValueBox(State(descriptor: STDOUT_FILENO))
        } else {
            ownsDescriptor = true
            state = NIOLockedValueBox(State(descriptor: try Self.open(path)))
        }
    }

    /// Discards everything (for tests that do not look at the log).
    public init(discarding: Void) {
        path = "/dev/null"
        backlogLimit = 0
        health = OutputHealth(label: "audit log (discarded)", consequence: "")
        ownsDescriptor = false
        state = NIOLockedValueBox(State(descriptor: -1))
    }

    private static func open(_ path: String) throws -> Int32 {
        let descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            throw ProxyError.unusableLog(path: path, reason: String(cString: strerror(errno)))
        }
        return descriptor
    }

    /// Lines dropped because the backlog was full, since start.
    public var droppedLines: Int { state.withLockedValue { $0.totalDroppedLines } }

    /// Octets waiting to be written.
    public var backlog: Int { state.withLockedValue { $0.pending.count } }

    /// Appends `events`, encoded in `bytes`, which the caller keeps between batches (a session
    /// writes a batch per read: its own buffer spares an allocation each time). With `flush`,
    /// everything buffered goes to the file at once.
    public func write(_ events: [AuditEvent], flush: Bool = false, encodingIn bytes: inout [UInt8]) {
        guard !events.isEmpty else { return }
        // Encoded as bytes outside the lock: one array per batch, no String per event.
        bytes.removeAll(keepingCapacity: true)
        bytes.reserveCapacity(events.count * 192)
        AuditEvent.appendJSONLines(events, to: &bytes)
        state.withLockedValue { state in
            guard state.descriptor >= 0 else { return }
            if state.pending.count + bytes.count > max(backlogLimit, Self.batchSize) && health.isFailing {
                state.droppedLines += events.count
                state.totalDroppedLines += events.count
                return
            }
            state.pending.append(contentsOf: bytes)
            // While failing, only the timer retries (`flush()`): not a failed system call per batch.
            if !health.isFailing, flush || state.pending.count >= Self.batchSize { drain(&state) }
        }
    }

    /// Writes everything buffered (and retries after a failure): the 200 ms timer calls it.
    public func flush() {
        state.withLockedValue { drain(&$0) }
    }

    /// Reopens `path` (SIGUSR1, after logrotate renamed the file): what is buffered goes to the
    /// old file first, so each line is in exactly one of the two. Standard output is not reopened.
    /// When the file cannot be opened, writing goes on to the old one and the failure is reported.
    public func reopen() {
        guard ownsDescriptor else { return }
        state.withLockedValue { state in
            guard state.descriptor >= 0 else { return }
            drain(&state)
            let fresh: Int32
            do {
                fresh = try Self.open(path)
            } catch {
                health.failed("cannot reopen: \(error)")
                return
            }
            if Glibc.close(state.descriptor) != 0 {
                // The lines are already written (drain above); close only releases the descriptor.
                OutputHealth.standardError("\(health.label): closing the rotated file: \(String(cString: strerror(errno)))")
            }
            state.descriptor = fresh
        }
    }

    /// Writes what is left and closes. Returns false (after saying so on standard error) when
    /// lines were lost: unwritten at the end, or dropped from a full backlog while the log failed.
    @discardableResult
    public func close() -> Bool {
        state.withLockedValue { state in
            guard state.descriptor >= 0 else { return true }
            drain(&state)
            let complete = state.pending.isEmpty && state.totalDroppedLines == 0
            if !complete {
                OutputHealth.standardError(
                    "\(health.label): closed with \(state.pending.count) octets unwritten and \(state.totalDroppedLines) lines dropped")
            }
            if ownsDescriptor, Glibc.close(state.descriptor) != 0 {
                OutputHealth.standardError("\(health.label): close failed: \(String(cString: strerror(errno)))")
            }
            state.descriptor = -1
            return complete
        }
    }

    /// Writes `pending` from its start until it is empty or a write fails; what was written is
    /// removed, the rest waits for the next attempt (a line cut by a full disk is completed then).
    private func drain(_ state: inout State) {
        guard state.descriptor >= 0, !state.pending.isEmpty else { return }
        var written = 0
        var failure: Int32?
        state.pending.withUnsafeBytes { bytes in
            while written < bytes.count {
                let result = Glibc.write(state.descriptor, bytes.baseAddress! + written, bytes.count - written)
                if result > 0 {
                    written += result
                } else if result < 0 && errno == EINTR {
                    continue
                } else {
                    failure = result < 0 ? errno : ENOSPC  // a write of 0 octets makes no progress: as full
                    break
                }
            }
        }
        state.pending.removeFirst(written)
        if let failure {
            health.failed(String(cString: strerror(failure)))
            return
        }
        let dropped = state.droppedLines
        state.droppedLines = 0
        health.succeeded(note: dropped > 0 ? "\(dropped) lines were dropped (backlog over \(backlogLimit) octets)" : "backlog written")
    }
}
