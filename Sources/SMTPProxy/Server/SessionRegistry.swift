import NIOConcurrencyHelpers
import NIOCore

/// Open sessions, so that a graceful shutdown can wait for them to drain.
final class SessionRegistry: Sendable {
    private struct State {
        var open = 0
        var waiters: [EventLoopPromise<Void>] = []
    }

    private let state = NIOLockedValueBox(State())

    func opened() {
        state.withLockedValue { $0.open += 1 }
    }

    func closed() {
        let waiters = state.withLockedValue { state -> [EventLoopPromise<Void>] in
            state.open -= 1
            guard state.open == 0 else { return [] }
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.succeed() }
    }

    var count: Int { state.withLockedValue { $0.open } }

    /// Succeeds once no session is open.
    func drained(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        let now = state.withLockedValue { state -> Bool in
            if state.open == 0 { return true }
            state.waiters.append(promise)
            return false
        }
        if now { promise.succeed() }
        return promise.futureResult
    }
}
