import NIOConcurrencyHelpers
import NIOCore

/// Writes the audit log out shortly after the last open session ended, so that the log is
/// complete on disk moments after the proxy falls idle. One write for every burst of sessions,
/// not one per session: a flood of connections refused at connect, each the only one open, would
/// otherwise cost a `write(2)` to the log per connection (half of a refusal's extra system calls).
final class IdleLogFlush: Sendable {
    /// How long after the session's end the log is written (the 200 ms flusher covers busy times).
    static let delay = TimeAmount.milliseconds(10)

    private let auditLog: AuditLogWriter
    private let scheduled = NIOLockedValueBox(false)

    init(auditLog: AuditLogWriter) {
        self.auditLog = auditLog
    }

    /// Asks for a flush `delay` from now on `eventLoop`, unless one is already due.
    func request(on eventLoop: any EventLoop) {
        let due = scheduled.withLockedValue { scheduled in
            defer { scheduled = true }
            return scheduled
        }
        guard !due else { return }
        eventLoop.scheduleTask(in: Self.delay) { [self] in
            scheduled.withLockedValue { $0 = false }
            auditLog.flush()
        }
    }
}
