import NIOCore
import NIOPosix
import SMTPCore

/// The consultants of one rule set, asked in order: the first verdict that is not `proceed`
/// decides; the events, header lines and policy answers of every consultant asked are kept.
public final class ConsultantChain: Sendable {
    public let consultants: [any SessionConsultant]

    public init(_ consultants: [any SessionConsultant] = []) {
        self.consultants = consultants
    }

    public var isEmpty: Bool { consultants.isEmpty }

    /// The stages a session of `client` must stop at for these consultants.
    public func stages(for client: Endpoint) -> Set<ConsultStage> {
        var stages: Set<ConsultStage> = []
        for consultant in consultants { stages.formUnion(consultant.stages(for: client)) }
        return stages
    }

    /// A consult's verdict: decided already, or still to come from a service.
    public enum Answer {
        case now(Verdict)
        case later(EventLoopFuture<Verdict>)
    }

    /// Asks each consultant in turn until one decides; completes on `eventLoop`.
    /// `excluding` leaves out one consultant (one the driver already asked its own way: the
    /// milters, which read a held message).
    public func consult(
        _ request: ConsultRequest, at time: SMTPTimestamp, on eventLoop: any EventLoop, excluding: (any SessionConsultant)? = nil
    ) -> EventLoopFuture<Verdict> {
        switch answer(request, at: time, on: eventLoop, excluding: excluding) {
        case .now(let verdict): eventLoop.makeSucceededFuture(verdict)
        case .later(let future): future
        }
    }

    /// As `consult`, without a future while the consultants answer at once (`immediateVerdict`:
    /// the client limits at every command need no allocation, no callback, no second turn);
    /// from the first one that must wait on, the rest of the chain completes a future.
    public func answer(
        _ request: ConsultRequest, at time: SMTPTimestamp, on eventLoop: any EventLoop, excluding: (any SessionConsultant)? = nil
    ) -> Answer {
        var far: Verdict?  // nil: nobody answered yet (`combine` with `.proceed` would only copy)
        for (index, consultant) in consultants.enumerated() {
            if let excluding, consultant === excluding { continue }
            guard let verdict = consultant.immediateVerdict(for: request, at: time) else {
                return .later(ask(from: index, request, at: time, so: far ?? .proceed, on: eventLoop, excluding: excluding))
            }
            let combined = far.map { Self.combine($0, verdict) } ?? verdict
            if case .proceed = verdict.action {
                far = combined
                continue
            }
            return .now(combined)
        }
        return .now(far ?? .proceed)
    }

    private func ask(
        from index: Int, _ request: ConsultRequest, at time: SMTPTimestamp, so far: Verdict, on eventLoop: any EventLoop,
        excluding: (any SessionConsultant)?
    ) -> EventLoopFuture<Verdict> {
        guard index < consultants.count else { return eventLoop.makeSucceededFuture(far) }
        if let excluding, consultants[index] === excluding {
            return ask(from: index + 1, request, at: time, so: far, on: eventLoop, excluding: excluding)
        }
        return consultants[index].consult(request, at: time, on: eventLoop).flatMap { verdict in
            let combined = Self.combine(far, verdict)
            if case .proceed = verdict.action {
                return self.ask(from: index + 1, request, at: time, so: combined, on: eventLoop, excluding: excluding)
            }
            return eventLoop.makeSucceededFuture(combined)
        }
    }

    /// `next`'s action (and its rule, when it has one) on top of what was said before it.
    public static func combine(_ earlier: Verdict, _ next: Verdict) -> Verdict {
        var combined = next
        combined.events = earlier.events + next.events
        combined.prependHeaders = earlier.prependHeaders + next.prependHeaders
        combined.rule = next.rule ?? earlier.rule
        combined.policyAnswer = next.policyAnswer ?? earlier.policyAnswer
        combined.endReason = next.endReason ?? earlier.endReason
        combined.sender = next.sender ?? earlier.sender
        combined.recipients = next.recipients ?? earlier.recipients
        return combined
    }

    public func observe(_ events: ArraySlice<AuditEvent>) {
        for consultant in consultants { consultant.observe(events) }
    }
}

extension ConsultantChain {
    /// The verdict, waited for: for a driver that runs off any event loop (replay, in capture
    /// time). With no consultants it is `proceed` at once.
    public func answer(_ request: ConsultRequest, at time: SMTPTimestamp) -> Verdict {
        guard !consultants.isEmpty else { return .proceed }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let future: EventLoopFuture<Verdict>
        switch answer(request, at: time, on: loop) {
        case .now(let verdict): return verdict
        case .later(let later): future = later
        }
        do {
            return try future.wait()
        } catch {
            // Consultants never fail by contract; one that does lets the session go on.
            return .proceed
        }
    }
}
