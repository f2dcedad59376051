import SMTPCore
import struct NIOCore.ByteBuffer

/// Re-sends the client side of captured SMTP sessions to a live server (or to the proxy in front
/// of one), paced by its replies, and compares the replies with the captured ones
/// (`smtp-inspect replay FILE --to HOST:PORT`, SPEC §6).
///
///     let resender = LiveResender(host: "127.0.0.1", port: 2525)
///     for conversation in try ConversationReader(path: "captures/swaks-plain.pcap").conversations() {
///         let result = resender.resend(conversation)
///         print(result.matches, result.differences)
///     }
///
/// Pacing: one connection per session; for each step (`ConversationStep`) the captured client
/// bytes are sent unchanged, then the live server is read until it has sent as many complete
/// replies (`ReplyParser`) as the capture had at that point, or `replyTimeout` seconds pass, or
/// it closes the connection. Replies that arrive beyond that count before the next step are
/// `extra`; after the last step the client half-closes and the server gets `closeGrace` seconds
/// to say anything more. A session that started TLS (STARTTLS answered 220 in the capture)
/// stops after that step: the rest is encrypted.
///
/// Comparison: within each step, captured and live replies are paired in order and only their
/// codes are compared (texts carry queue ids and host names). Unpaired captured replies are
/// `missing` (the step timed out or the server closed), unpaired live ones `extra`. After the
/// server closed the connection early, the later steps are not sent and counted in `notResent`.
///
/// AUTH: the captured client bytes (credentials included) are sent as captured, since the capture
/// is the operator's own; results name commands only as the audit log does (`AUTH PLAIN [redacted]`).
/// Blocking: call it off the cooperative thread pool (the CLI runs it on the main thread).
public struct LiveResender: Sendable {
    public var host: String
    public var port: Int
    /// Seconds to wait for a step's replies (and to send its bytes).
    public var replyTimeout: Double
    public var connectTimeout: Double
    /// Seconds to wait, after the last step, for the server to close or send more.
    public var closeGrace: Double

    public init(host: String, port: Int, replyTimeout: Double = 30, connectTimeout: Double = 10, closeGrace: Double = 2) {
        self.host = host
        self.port = port
        self.replyTimeout = replyTimeout
        self.connectTimeout = connectTimeout
        self.closeGrace = closeGrace
    }

    /// `host:port`, `[::1]:25`.
    public var target: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public func resend(_ conversation: CapturedConversation) -> ResendResult {
        var result = ResendResult(conversation: conversation, target: target, at: .wallClock())
        defer { result.endedAt = .wallClock() }
        if !conversation.fromHandshake {
            result.notes.append(
                ResendNote(
                    kind: .midStream,
                    detail: "the capture begins after this connection's handshake: the session's start is missing, "
                        + "so the live server's first replies may not line up"))
        }
        guard !conversation.steps.isEmpty else {
            // Nothing before the capture's gap: nothing to send.
            appendStopNote(conversation, into: &result)
            return result
        }
        let socket: BlockingTCPSocket
        do {
            socket = try BlockingTCPSocket.connect(host: host, port: port, timeout: connectTimeout)
        } catch {
            result.notes.append(ResendNote(kind: .connectFailed, detail: error.description))
            result.notResent = conversation.replies.count
            return result
        }
        result.connectedTo = socket.remoteDescription
        defer { socket.closeNow() }
        var session = LiveSession(socket: socket)
        let stopsWithTLS: Bool
        switch conversation.stop {
        case .startTLS, .relay: stopsWithTLS = true
        case .gap, nil: stopsWithTLS = false
        }
        for (index, step) in conversation.steps.enumerated() {
            let isLast = index == conversation.steps.count - 1
            let deadline = Deadline(after: replyTimeout)
            result.capturedReplies += step.replies.count
            var ending = StepEnding.complete
            var stepReplies: [ResendReply] = []
            if step.clientBytes.readableBytes > 0, session.serverHasClosed() {
                // Nothing to send to: the server closed after the previous step.
                ending = .closed
            } else {
                result.stepsSent += 1
                if step.clientBytes.readableBytes > 0, let failure = session.send(step.clientBytes, until: deadline) {
                    ending = .failed(failure)
                }
            }
            stepReplies += session.takeReplies()
            if case .complete = ending {
                ending = session.waitForReplies(step.replies.count, have: &stepReplies, until: deadline)
            }
            if isLast, !stopsWithTLS, case .complete = ending {
                // The client is done: the server may still close, or say more.
                socket.shutdownOutput()
                session.waitForClose(have: &stepReplies, until: Deadline(after: closeGrace))
            }
            compare(step, index, stepReplies, ending, firstReceived: result.receivedReplies, into: &result)
            result.receivedReplies += stepReplies.count
            switch ending {
            case .complete:
                continue
            case .timedOut:
                result.notes.append(
                    ResendNote(
                        kind: .timeout, step: index,
                        detail: "waited \(Self.seconds(replyTimeout)) for \(step.replies.count) "
                            + "repl\(step.replies.count == 1 ? "y" : "ies"), got \(stepReplies.count)"))
                continue
            case .closed, .failed:
                break
            }
            // The connection is gone: the later steps cannot be sent.
            let later = conversation.steps[(index + 1)...]
            result.notResent = later.reduce(0) { $0 + $1.replies.count }
            let rest = later.isEmpty
                ? ""
                : "; \(later.count) later step\(later.count == 1 ? "" : "s") with \(result.notResent) captured "
                    + "repl\(result.notResent == 1 ? "y" : "ies") not resent"
            if case .failed(let failure) = ending {
                result.notes.append(ResendNote(kind: .failed, step: index, detail: failure.description + rest))
            } else if !later.isEmpty {
                result.notes.append(ResendNote(kind: .closed, step: index, detail: "the server closed the connection in step \(index)" + rest))
            }
            break
        }
        appendStopNote(conversation, into: &result)
        return result
    }

    /// Why the conversation ended before the captured connection did, if it did.
    private func appendStopNote(_ conversation: CapturedConversation, into result: inout ResendResult) {
        switch conversation.stop {
        case .startTLS(let step):
            result.notes.append(
                ResendNote(
                    kind: .startTLS, step: step,
                    detail: "STARTTLS got 220 in the capture: the rest of the session is TLS and was not resent"))
        case .relay(let step):
            result.notes.append(
                ResendNote(kind: .relay, step: step, detail: "the session became a blind relay in the capture; the rest was not resent"))
        case .gap(let stream, let count):
            result.notes.append(
                ResendNote(
                    kind: .gap, step: conversation.steps.count,
                    detail: "the capture lost \(count) octets of the \(stream) stream; the resend stopped before them"))
        case nil:
            break
        }
    }

    /// Pairs a step's captured and live replies in order.
    private func compare(
        _ step: ConversationStep, _ index: Int, _ received: [ResendReply], _ ending: StepEnding, firstReceived: Int,
        into result: inout ResendResult
    ) {
        for position in 0..<max(step.replies.count, received.count) {
            let captured = position < step.replies.count ? step.replies[position] : nil
            let live = position < received.count ? received[position] : nil
            switch (captured, live) {
            case (let captured?, let live?):
                if captured.reply.code == live.code {
                    result.sameCodes += 1
                } else {
                    noteDivergence(captured, live, step: index, into: &result)
                    result.differences.append(
                        ResendDifference(
                            kind: .code, step: index, capturedIndex: captured.index, receivedIndex: firstReceived + position,
                            verb: captured.verb, command: captured.command, captured: captured.reply, received: live))
                }
            case (let captured?, nil):
                result.differences.append(
                    ResendDifference(
                        kind: .missing, step: index, capturedIndex: captured.index, verb: captured.verb, command: captured.command,
                        captured: captured.reply, reason: ending.reason))
            case (nil, let live?):
                result.differences.append(ResendDifference(kind: .extra, step: index, receivedIndex: firstReceived + position, received: live))
            case (nil, nil):
                break
            }
        }
    }

    /// A 354 or 334 on one side only: the client's next bytes are message text or an AUTH
    /// response to one server and commands to the other, so later differences follow from this one.
    private func noteDivergence(_ captured: CapturedReply, _ live: ResendReply, step: Int, into result: inout ResendResult) {
        guard !result.notes.contains(where: { $0.kind == .diverged }) else { return }
        for code in [354, 334] where (captured.reply.code == code) != (live.code == code) {
            let what = code == 354 ? "message text" : "an AUTH response"
            result.notes.append(
                ResendNote(
                    kind: .diverged, step: step,
                    detail: "reply #\(captured.index) (\(captured.command ?? captured.verb ?? "unsolicited")) is "
                        + "\(live.code.map(String.init) ?? "not a reply") here, \(captured.reply.code.map(String.init) ?? "not a reply") "
                        + "in the capture: what the client sends next is \(what) to one server and commands to the other, "
                        + "so the differences after this one follow from it"))
            return
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
