import NIOCore

/// One request on its way to a policy server and back: queued, then written on one connection,
/// finished exactly once (answer, failure or timeout). Lives on its pool's event loop.
final class PolicyExchange {
    let request: ByteBuffer
    let started: NIODeadline
    let promise: EventLoopPromise<Result<String, PolicyFailure>>
    var timer: Scheduled<Void>?
    /// The connection carrying it, once written.
    var connection: PolicyConnection?
    /// A request that met a stale reused connection (closed by the server while idle, nothing
    /// read) is sent once more on a fresh one, as Postfix does.
    var retried = false
    private(set) var finished = false

    init(request: ByteBuffer, promise: EventLoopPromise<Result<String, PolicyFailure>>) {
        self.request = request
        self.promise = promise
        started = .now()
    }

    /// Completes the exchange unless it already is; returns whether this call did.
    @discardableResult
    func finish(_ result: Result<String, PolicyFailure>) -> Bool {
        guard !finished else { return false }
        finished = true
        timer?.cancel()
        timer = nil
        connection = nil
        promise.succeed(result)
        return true
    }
}

@available(*, unavailable)
extension PolicyExchange: Sendable {}
