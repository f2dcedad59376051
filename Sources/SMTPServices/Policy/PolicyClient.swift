import NIOConcurrencyHelpers
import NIOCore
import SMTPFilters

/// Asks Postfix SMTP access policy servers (`check_policy_service`): one connection pool per
/// server and event loop, so a session's request never leaves its loop and connections are
/// reused by every session of that loop.
///
///     let client = PolicyClient()
///     client.ask(.inet(host: "127.0.0.1", port: 10023), PolicyRequest(consult).encoded,
///                timeout: .seconds(10), on: eventLoop)
///     // → .success("DEFER_IF_PERMIT Greylisted, see …") or .failure(PolicyFailure(.timeout, …))
public final class PolicyClient: Sendable {
    /// Longer answers are refused (`oversized`): Postfix's answers are one short line.
    public static let maximumAnswerLength = 1024

    public struct Limits: Hashable, Sendable {
        /// Connections per server and event loop, each carrying one request at a time.
        public var connections: Int
        /// Requests that may wait for a free connection (per server and event loop); more fail
        /// at once as `overload` rather than holding sessions without bound.
        public var maximumQueued: Int
        public var connectTimeout: TimeAmount

        public init(connections: Int = 4, maximumQueued: Int = 1000, connectTimeout: TimeAmount = .seconds(5)) {
            self.connections = max(1, connections)
            self.maximumQueued = max(0, maximumQueued)
            self.connectTimeout = connectTimeout
        }
    }

    public let limits: Limits
    private struct PoolKey: Hashable {
        var address: PolicyService.Address
        var eventLoop: ObjectIdentifier
    }
    private let pools = NIOLockedValueBox<[PoolKey: NIOLoopBound<PolicyConnectionPool>]>([:])

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The server's `action` for `request`, or why there is none; completed on `eventLoop`, never
    /// failed. `timeout` covers the wait for a connection as well as the answer.
    public func ask(
        _ address: PolicyService.Address, _ request: ByteBuffer, timeout: Duration, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Result<String, PolicyFailure>> {
        guard eventLoop.inEventLoop else {
            return eventLoop.flatSubmit { self.ask(address, request, timeout: timeout, on: eventLoop) }
        }
        return pool(for: address, on: eventLoop).ask(request, timeout: timeout)
    }

    /// Closes every connection (at shutdown; a later `ask` opens new ones).
    public func shutdown() {
        let all = pools.withLockedValue { pools in
            defer { pools.removeAll() }
            return Array(pools.values)
        }
        for pool in all {
            pool.eventLoop.execute { pool.value.shutdown() }
        }
    }

    private func pool(for address: PolicyService.Address, on eventLoop: any EventLoop) -> PolicyConnectionPool {
        let key = PoolKey(address: address, eventLoop: ObjectIdentifier(eventLoop))
        return pools.withLockedValue { pools in
            if let pool = pools[key] { return pool.value }
            let pool = PolicyConnectionPool(address: address, eventLoop: eventLoop, limits: limits)
            pools[key] = NIOLoopBound(pool, eventLoop: eventLoop)
            return pool
        }
    }
}
