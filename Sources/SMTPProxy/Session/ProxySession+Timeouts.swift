import Logging
import NIOCore
import SMTPCore

/// Timeouts (RFC 5321 §4.5.3.2): one timer per session, armed where the engine says
/// (`SessionAction.setTimer`).
extension ProxySession {
    /// Moves the session's deadline; nil cancels it. A later deadline just moves `deadline` (the
    /// timer re-arms when it fires), an earlier one replaces the timer.
    func setTimer(deadline wanted: NIODeadline?) {
        guard !finished, let wanted else {
            deadline = nil
            return
        }
        deadline = wanted
        if let timerDeadline, timer != nil, timerDeadline <= wanted { return }
        timer?.cancel()
        timerDeadline = wanted
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: wanted) { [self] in timerFired() }
    }

    func timerFired() {
        timer = nil
        guard !finished, let deadline else { return }
        if deadline > eventLoop.now {
            timerDeadline = deadline
            timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in timerFired() }
            return
        }
        logger.info("timeout waiting for \(engineWait)")
        inputTime = .now()
        engine.timedOut(at: inputTime, into: &effects)
        apply()
    }
}
