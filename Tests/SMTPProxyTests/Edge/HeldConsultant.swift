import NIOCore
import SMTPCore
import SMTPServices

/// A consultant that answers when the test says so: each consult waits on a promise the test
/// completes, so the session's hold can be watched while it lasts.
final class HeldConsultant: SessionConsultant, @unchecked Sendable {
    let consulted: Set<ConsultStage>
    private(set) var asked: [(request: ConsultRequest, promise: EventLoopPromise<Verdict>)] = []

    init(stages: Set<ConsultStage>) {
        consulted = stages
    }

    func stages(for client: Endpoint) -> Set<ConsultStage> { consulted }

    func consult(_ request: ConsultRequest, at time: SMTPTimestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Verdict> {
        let promise = eventLoop.makePromise(of: Verdict.self)
        asked.append((request, promise))
        return promise.futureResult
    }

    /// Answers the oldest open consult.
    func answer(_ verdict: Verdict) {
        asked.removeFirst().promise.succeed(verdict)
    }
}
