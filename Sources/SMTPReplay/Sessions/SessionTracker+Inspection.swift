import PcapCapture
import SMTPCore
import SMTPServices
import struct NIOCore.ByteBuffer

/// Feeding an SMTP session's bytes, in capture order, through its engine.
extension SessionTracker {
    mutating func feed(_ event: ReassemblyEvent, into output: inout [AuditEvent]) -> Outcome {
        let time = Self.time(event.timestamp)
        now = time
        switch event.kind {
        case .opened:
            return .keep
        case .data(let direction, var bytes):
            if direction == roles.serverDirection {
                guard !serverGone, Self.skip(&bytes, &serverSkip) else { return .keep }
                aligner.receiveServer(bytes)
            } else {
                guard !clientGone, Self.skip(&bytes, &clientSkip) else { return .keep }
                let filtered = aligner.filterClient(bytes)
                if filtered.readableBytes > 0 {
                    engine!.receiveFromClient(filtered, at: time, into: &effects)
                    collect(into: &output)
                }
            }
            pumpServer(at: time, into: &output)
        case .gap(let direction, let count):
            // After the proxy closed a leg, what that leg carried no longer matters.
            if direction == roles.serverDirection ? serverGone : clientGone { return .keep }
            let stream = direction == roles.serverDirection ? "server→client" : "client→server"
            flushServer(at: time, into: &output)
            effects.log(
                AuditEvent(
                    timestamp: time, session: sessionID,
                    kind: .anomaly(
                        .contentGap,
                        detail: "\(count) octets of the \(stream) stream are missing from the capture; "
                            + "the engine cannot resynchronise after a gap, so replay of this session stops here")))
            engine!.finish(at: time, into: &effects)
            collect(into: &output)
            phase = .done
        case .overlapConflict(let direction, let count):
            let isServer = direction == roles.serverDirection
            guard !(isServer ? serverConflictReported : clientConflictReported) else { return .keep }
            if isServer { serverConflictReported = true } else { clientConflictReported = true }
            effects.log(
                AuditEvent(
                    timestamp: time, session: sessionID,
                    kind: .anomaly(
                        AnomalyKind(rawValue: "tcp-overlap-conflict"),
                        detail: "\(count) octets of the \(isServer ? "server→client" : "client→server") stream were retransmitted "
                            + "with different content; the first copy was kept, as Wireshark does, but the receiver may "
                            + "have taken the other (later conflicts in this direction are not reported)")))
            collect(into: &output)
        case .closed(let direction, _):
            if direction == roles.serverDirection {
                flushServer(at: time, into: &output)
                engine!.serverClosed(at: time, into: &effects)
            } else {
                engine!.clientClosed(at: time, into: &effects)
            }
            collect(into: &output)
            pumpServer(at: time, into: &output)
        case .finished:
            flushServer(at: time, into: &output)
            engine!.finish(at: time, into: &effects)
            collect(into: &output)
            phase = .done
        }
        if phase == .inspecting, clientGone, serverGone {
            // The proxy would have closed both connections: the session is over.
            engine!.finish(at: time, into: &effects)
            collect(into: &output)
            phase = .done
        }
        return phase == .done ? .release : .keep
    }

    /// Feeds the engine every complete server reply the aligner lets through.
    mutating func pumpServer(at time: SMTPTimestamp, into output: inout [AuditEvent]) {
        while phase == .inspecting, !serverGone {
            if !aligner.passthrough, engine!.waitingFor == .relay { aligner.enterPassthrough() }
            guard let item = aligner.nextServerItem() else { return }
            if case .feed(let bytes) = item {
                engine!.receiveFromServer(bytes, at: time, into: &effects)
                collect(into: &output)
            }
        }
    }

    /// Hands over what is left of the server's stream (an unfinished reply) before it ends.
    mutating func flushServer(at time: SMTPTimestamp, into output: inout [AuditEvent]) {
        pumpServer(at: time, into: &output)
        guard !serverGone, let rest = aligner.takeUnfinishedServerBytes() else { return }
        engine!.receiveFromServer(rest, at: time, into: &effects)
        collect(into: &output)
    }

    /// Moves the engine's events out, notes what it closed, and answers its questions (in
    /// capture time: a tarpit's delay is not waited for, the capture already holds what followed).
    mutating func collect(into output: inout [AuditEvent]) {
        while true {
            aligner.observe(effects)
            let events = effects.events
            output.append(contentsOf: events)
            // Counters learn from the replayed events as from live ones (client limits).
            if !consultants.isEmpty, !events.isEmpty { consultants.observe(events[...]) }
            var questions: [(ConsultID, ConsultRequest)] = []
            var wakeUps: [ConsultID] = []
            for action in effects.actions {
                switch action {
                case .closeClient: clientGone = true
                case .closeServer: serverGone = true
                case .consult(let id, let request): questions.append((id, request))
                case .resumeAt(let id, _): wakeUps.append(id)
                case .holdContent(let bytes): copyMessage(bytes)
                case .discardHeldContent: messageCopy = nil
                default: break
                }
            }
            effects.removeAll()
            guard !questions.isEmpty || !wakeUps.isEmpty, engine != nil else { return }
            for (id, request) in questions {
                let verdict = request.stage == .endOfMessage && milters != nil ? judgeCapturedMessage(request) : consultants.answer(request, at: now)
                engine!.decided(id, verdict, at: now, into: &effects)
            }
            for id in wakeUps { engine!.decided(id, .proceed, at: now, into: &effects) }
        }
    }

    /// Drops the tunnel set-up bytes still to skip; false when nothing is left.
    static func skip(_ bytes: inout ByteBuffer, _ remaining: inout Int) -> Bool {
        if remaining > 0 {
            let count = min(remaining, bytes.readableBytes)
            bytes.moveReaderIndex(forwardBy: count)
            remaining -= count
        }
        return bytes.readableBytes > 0
    }

    static func time(_ timestamp: PacketTimestamp) -> SMTPTimestamp {
        SMTPTimestamp(seconds: timestamp.seconds, nanoseconds: timestamp.nanoseconds)
    }
}
