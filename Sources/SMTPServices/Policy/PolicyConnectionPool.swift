import NIOCore
import NIOPosix
import SMTPFilters

/// The connections of one event loop to one policy server: kept open and reused (as Postfix
/// keeps its policy connections), at most `Limits.connections` of them, each carrying one
/// request at a time; further requests wait in order, up to `Limits.maximumQueued`. A connection
/// that fails is dropped and the next request opens a fresh one. Every request ends, whatever
/// the server does: with its answer, a `PolicyFailure`, or a timeout.
///
/// Everything runs on `eventLoop`.
final class PolicyConnectionPool {
    let address: PolicyService.Address
    let eventLoop: any EventLoop
    let limits: PolicyClient.Limits
    private var connections: [PolicyConnection] = []
    private var idle: [PolicyConnection] = []
    private var pending: [PolicyExchange] = []
    private var waitingForConnect: [ObjectIdentifier: PolicyExchange] = [:]

    init(address: PolicyService.Address, eventLoop: any EventLoop, limits: PolicyClient.Limits) {
        self.address = address
        self.eventLoop = eventLoop
        self.limits = limits
    }

    /// Sends `request` and completes with the server's `action` or why there is none; never fails.
    func ask(_ request: ByteBuffer, timeout: Duration) -> EventLoopFuture<Result<String, PolicyFailure>> {
        eventLoop.preconditionInEventLoop()
        let exchange = PolicyExchange(request: request, promise: eventLoop.makePromise())
        guard pending.count < limits.maximumQueued else {
            exchange.finish(.failure(PolicyFailure(.overload, "\(pending.count) requests already wait for \(address)")))
            return exchange.promise.futureResult
        }
        exchange.timer = eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) { [self] in
            timedOut(exchange, after: timeout)
        }
        pending.append(exchange)
        dispatch()
        return exchange.promise.futureResult
    }

    /// Closes every connection (requests still outstanding fail as `reset`).
    func shutdown() {
        for connection in connections { connection.close() }
    }

    // MARK: - From the connections

    /// The connection's exchange ended (answered or failed); a connection still open is idle.
    func exchangeEnded(on connection: PolicyConnection) {
        if connection.closed {
            remove(connection)
        } else if !idle.contains(where: { $0 === connection }) {
            idle.append(connection)
        }
        dispatch()
    }

    /// The connection closed (by the server, a reset, or us). `exchange` was outstanding on it.
    func connectionClosed(_ connection: PolicyConnection, exchange: PolicyExchange?, readSomething: Bool) {
        remove(connection)
        if let exchange, !exchange.finished {
            exchange.connection = nil
            if connection.reused, !readSomething, !exchange.retried {
                // The server closed the idle connection just before our request: ask again once.
                exchange.retried = true
                pending.insert(exchange, at: 0)
            } else {
                let when = readSomething ? "in the middle of its answer" : "before answering"
                exchange.finish(.failure(PolicyFailure(.reset, "\(address) closed the connection \(when)")))
            }
        }
        dispatch()
    }

    // MARK: - Scheduling

    private func dispatch() {
        while !pending.isEmpty {
            if let connection = idle.popLast() {
                guard connection.isIdle else {
                    remove(connection)
                    continue
                }
                connection.send(pending.removeFirst())
            } else if connections.count < limits.connections {
                open(for: pending.removeFirst())
            } else {
                return
            }
        }
    }

    private func open(for exchange: PolicyExchange) {
        let connection = PolicyConnection(pool: self)
        connections.append(connection)
        waitingForConnect[ObjectIdentifier(connection)] = exchange
        let handler = NIOLoopBound(connection, eventLoop: eventLoop)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(limits.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler.value) }
            }
        let connected: EventLoopFuture<any Channel> =
            switch address {
            case .inet(let host, let port):
                if let literal = try? SocketAddress(ipAddress: host, port: port) {
                    bootstrap.connect(to: literal)
                } else {
                    bootstrap.connect(host: host, port: port)
                }
            case .unix(let path): bootstrap.connect(unixDomainSocketPath: path)
            }
        connected.assumeIsolated().whenComplete { [self] result in
            let exchange = waitingForConnect.removeValue(forKey: ObjectIdentifier(connection))
            switch result {
            case .success(let channel):
                connection.connected(channel)
                if let exchange, !exchange.finished {
                    connection.send(exchange)
                } else {
                    idle.append(connection)
                    dispatch()
                }
            case .failure(let error):
                remove(connection)
                exchange?.finish(.failure(PolicyFailure(.refused, "cannot connect to \(address): \(error)")))
                dispatch()
            }
        }
    }

    private func timedOut(_ exchange: PolicyExchange, after timeout: Duration) {
        guard !exchange.finished else { return }
        pending.removeAll { $0 === exchange }
        if let connection = exchange.connection {
            // A late answer would be taken for the next request's: the connection goes.
            connection.close()
            remove(connection)
        }
        exchange.finish(.failure(PolicyFailure(.timeout, "no answer from \(address) within \(timeout)")))
        dispatch()
    }

    private func remove(_ connection: PolicyConnection) {
        connections.removeAll { $0 === connection }
        idle.removeAll { $0 === connection }
    }
}

@available(*, unavailable)
extension PolicyConnectionPool: Sendable {}
