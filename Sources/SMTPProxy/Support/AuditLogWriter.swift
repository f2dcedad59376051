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
public final class AuditLogWriter: Sendable {
    private struct State: @unchecked Sendable {
        var file: UnsafeMutablePointer<FILE>?
        let ownsFile: Bool
    }

    private let state: NIOLockedValueBox<State>

    /// `-` means standard output. Throws when the file cannot be opened for appending.
    public init(path: String) throws {
        if path == "-" {
            state = NIOLockedValueBox(State(file: fdopen(STDOUT_FILENO, "a"), ownsFile: false))
        } else {
            guard let file = fopen(path, "a") else {
                throw ProxyError.unusableLog(path: path, reason: String(cString: strerror(errno)))
            }
            setvbuf(file, nil, _IOFBF, 1 << 16)
            state = NIOLockedValueBox(State(file: file, ownsFile: true))
        }
    }

    /// Discards everything (for tests that do not look at the log).
    public init(discarding: Void) {
        state = NIOLockedValueBox(State(file: nil, ownsFile: false))
    }

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
            guard let file = state.file else { return }
            _ = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
            if flush { fflush(file) }
        }
    }

    public func flush() {
        state.withLockedValue { state in
            if let file = state.file { fflush(file) }
        }
    }

    public func close() {
        state.withLockedValue { state in
            guard let file = state.file else { return }
            fflush(file)
            if state.ownsFile { fclose(file) }
            state.file = nil
        }
    }
}
