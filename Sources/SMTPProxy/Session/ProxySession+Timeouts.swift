import Logging
import NIOCore
import SMTPCore

/// Timeouts (RFC 5321 §4.5.3.2): one timer per session, set for what the engine waits for.
extension ProxySession {
    func scheduleTimer() {
        guard !finished, let seconds = context.configuration.timeouts.seconds(for: engineWaitingFor) else {
            deadline = nil
            return
        }
        let wanted = NIODeadline.now() + .seconds(seconds)
        deadline = wanted
        // One timer per session: a later deadline just moves `deadline` (the timer re-arms when
        // it fires), an earlier one replaces the timer.
        if let timerDeadline, timer != nil, timerDeadline <= wanted { return }
        timer?.cancel()
        timerDeadline = wanted
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: wanted) { [self] in timerFired() }
    }

    func timerFired() {
        timer = nil
        guard !finished, let deadline else { return }
        if deadline > .now() {
            timerDeadline = deadline
            timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in timerFired() }
            return
        }
        logger.info("timeout waiting for \(engineWaitingFor)")
        engine.timedOut(at: .now(), into: &effects)
        apply()
    }
}
