import IPAddressing
import NIOCore
import SMTPCore

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
/// stops after that step, as the rest of the capture is encrypted, unless `tls` is set and the
/// capture holds the clear text inside TLS (as `proxy --tls terminate --record` writes it):
/// then, once the live server has answered STARTTLS with 220 too, the resend starts TLS with it
/// (NIOSSL, checked against `tls`'s CA) and carries on with the captured clear text.
///
/// Comparison: within each step, captured and live replies are paired in order and only their
/// codes are compared (texts carry queue ids and host names). Unpaired captured replies are
/// `missing` (the step timed out or the server closed), unpaired live ones `extra`. After the
/// server closed the connection early, the later steps are not sent and counted in `notResent`.
///
/// AUTH: the captured client bytes (credentials included) are sent as captured, since the capture
/// is the operator's own; results name commands only as the audit log does (`AUTH PLAIN [redacted]`).
/// The connection is SwiftNIO's (`ResendConnection`); `resend` blocks its caller until the
/// session is done: call it off the event loops and the cooperative pool (the CLI runs it on
/// the main thread).
public struct LiveResender: Sendable {
    public var host: String
    public var port: Int
    /// Seconds to wait for a step's replies (and to send its bytes).
    public var replyTimeout: Double
    public var connectTimeout: Double
    /// Seconds to wait, after the last step, for the server to close or send more.
    public var closeGrace: Double
    /// TLS with the live server after a captured STARTTLS (`--upstream-ca`, `--upstream-insecure`);
    /// nil: the resend stops at a STARTTLS.
    public var tls: ResendTLS?

    public init(
        host: String, port: Int, replyTimeout: Double = 30, connectTimeout: Double = 10, closeGrace: Double = 2, tls: ResendTLS? = nil
    ) {
        self.host = host
        self.port = port
        self.replyTimeout = replyTimeout
        self.connectTimeout = connectTimeout
        self.closeGrace = closeGrace
        self.tls = tls
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
        let connection: ResendConnection
        do {
            connection = try ResendConnection.connect(host: host, port: port, timeout: connectTimeout)
        } catch {
            result.notes.append(ResendNote(kind: .connectFailed, detail: error.description))
            result.notResent = conversation.replies.count
            return result
        }
        result.connectedTo = connection.remoteDescription
        var lastReply: ResendReply?
        let stopsWithTLS: Bool
        switch conversation.stop {
        case .startTLS, .relay: stopsWithTLS = true
        case .gap, nil: stopsWithTLS = false
        }
        for (index, step) in conversation.steps.enumerated() {
            let isLast = index == conversation.steps.count - 1
            let deadline = NIODeadline.now() + Self.timeAmount(replyTimeout)
            if step.startsTLS, !startTLS(on: connection, step: index, after: lastReply, until: deadline, into: &result) {
                result.notResent = conversation.steps[index...].reduce(0) { $0 + $1.replies.count }
                break
            }
            result.capturedReplies += step.replies.count
            var ending = StepEnding.complete
            var stepReplies: [ResendReply] = []
            if step.clientBytes.readableBytes > 0, connection.serverHasClosed() {
                // Nothing to send to: the server closed after the previous step.
                ending = .closed
            } else {
                result.stepsSent += 1
                if step.clientBytes.readableBytes > 0, let stopped = connection.send(step.clientBytes, until: deadline) {
                    ending = stopped
                }
            }
            stepReplies += connection.takeReplies()
            if case .complete = ending {
                ending = connection.waitForReplies(step.replies.count, have: &stepReplies, until: deadline)
            }
            if isLast, !stopsWithTLS, case .complete = ending {
                // The client is done: the server may still close, or say more.
                connection.shutdownOutput()
                connection.waitForClose(have: &stepReplies, until: .now() + Self.timeAmount(closeGrace))
            }
            lastReply = stepReplies.last
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

    /// Before a step the captured client sent inside TLS: the live server must have accepted
    /// STARTTLS too, then the handshake must succeed; false (with a note) when the resend stops.
    private func startTLS(
        on connection: ResendConnection, step: Int, after reply: ResendReply?, until deadline: NIODeadline, into result: inout ResendResult
    ) -> Bool {
        guard let tls else { return false }
        guard reply?.code == 220 else {
            result.notes.append(
                ResendNote(
                    kind: .startTLS, step: step - 1,
                    detail: "STARTTLS got 220 in the capture but \(reply.map { "\($0.code.map(String.init) ?? "no code") \($0.text)" } ?? "no reply") "
                        + "here: the rest of the session is TLS and was not resent"))
            return false
        }
        // Verified against the target's name, or its IP address when it was given as one.
        let hostname = IPAddress(host: host) == nil ? host : nil
        let (dropped, failure) = connection.startTLS(tls, serverHostname: hostname, until: deadline)
        if dropped > 0 {
            result.notes.append(
                ResendNote(kind: .startTLS, step: step - 1, detail: "the server sent \(dropped) octets after its 220 to STARTTLS; dropped"))
        }
        if let failure {
            result.notes.append(ResendNote(kind: .tlsFailed, step: step, detail: failure.description + "; the rest was not resent"))
            return false
        }
        result.notes.append(
            ResendNote(
                kind: .tls, step: step,
                detail: "TLS with the server after STARTTLS"
                    + (tls.verifiesCertificate ? ", its certificate verified" : ", its certificate not verified (--upstream-insecure)")))
        return true
    }

    /// Why the conversation ended before the captured connection did, if it did.
    private func appendStopNote(_ conversation: CapturedConversation, into result: inout ResendResult) {
        switch conversation.stop {
        case .startTLS(let step):
            result.notes.append(
                ResendNote(
                    kind: .startTLS, step: step,
                    detail: "STARTTLS got 220 in the capture: the rest of the session is TLS and was not resent"
                        + (tls == nil
                            ? " (with --upstream-ca or --upstream-insecure, a capture of the clear text, as proxy --tls terminate --record writes, is resent past it)"
                            : " (the capture holds it encrypted)")))
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

    static func timeAmount(_ seconds: Double) -> TimeAmount {
        .nanoseconds(Int64(max(0, seconds) * 1e9))
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
