import Foundation

#if canImport(CNIOLinux)
// NIO's C shim can own sockaddr_in & co when it loads before Glibc in a compile job; with
// MemberImportVisibility their members then need this import.
import CNIOLinux
#endif

/// A blocking TCP client for the fault and operations tests: like `RawSMTPClient` (exact bytes on
/// the wire), plus what those tests need on top — IPv6 and host names (every address `getaddrinfo`
/// returns is tried in turn), a real RST (`reset()`), a half-close, and non-blocking sends, so a
/// test can tell that the proxy has stopped reading (backpressure) without a timing assertion.
final class OperationsClient: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var isClosed = false
    /// Octets the non-blocking `push` has handed to the kernel so far.
    private(set) var pushed = 0

    struct Failure: Error, CustomStringConvertible {
        var description: String
        var code: Int32 = 0
    }

    /// Connects to `host` (IPv4 or IPv6 literal, without brackets, or a host name) on `port`.
    init(host: String = "127.0.0.1", port: Int, timeout: Int = 30) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw Failure(description: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = 0
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            let socketFD = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if socketFD >= 0 {
                if connect(socketFD, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                    var tv = timeval(tv_sec: timeout, tv_usec: 0)
                    setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                    setsockopt(socketFD, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                    fd = socketFD
                    return
                }
                lastError = errno
                Glibc.close(socketFD)
            }
            candidate = info.pointee.ai_next
        }
        throw Failure(description: "connect to \(host):\(port): \(String(cString: strerror(lastError)))", code: lastError)
    }

    /// The errno of a connection attempt (0: it connected, and was closed again at once).
    static func connectError(host: String = "127.0.0.1", port: Int) -> Int32 {
        do {
            let client = try OperationsClient(host: host, port: port)
            client.close()
            return 0
        } catch let failure as Failure {
            return failure.code == 0 ? -1 : failure.code
        } catch {
            return -1
        }
    }

    deinit { close() }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    // MARK: - Sending

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))", code: errno) }
            offset += sent
        }
    }

    /// Sends what the kernel takes right now without blocking; returns the octets taken (0 when
    /// the send buffer is full).
    func trySend(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        let sent = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
        if sent < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK { return 0 }
            throw Failure(description: "send: \(String(cString: strerror(errno)))", code: errno)
        }
        pushed += sent
        return sent
    }

    /// Waits up to `milliseconds` for room in the send buffer.
    func waitWritable(milliseconds: Int32) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        return poll(&poller, 1, milliseconds) > 0 && poller.revents & Int16(POLLOUT) != 0
    }

    /// Pushes `next()` chunks (nil: done) as fast as the peer reads them. Returns true when all was
    /// sent, false when the peer stopped reading: the send buffer stayed full for `stallMilliseconds`
    /// — a condition, not a measurement: a reader that makes any progress frees room long before.
    func pushUntilStalled(stallMilliseconds: Int32 = 3000, _ next: () -> [UInt8]?) throws -> (complete: Bool, pending: [UInt8]) {
        var chunk: [UInt8] = []
        var offset = 0
        while true {
            if offset == chunk.count {
                guard let more = next() else { return (true, []) }
                chunk = more
                offset = 0
                continue
            }
            let sent = try chunk[offset...].withUnsafeBytes { try trySend($0) }
            if sent > 0 {
                offset += sent
                continue
            }
            if !waitWritable(milliseconds: stallMilliseconds) {
                return (false, Array(chunk[offset...]))
            }
        }
    }

    /// Half-closes the sending side (FIN); replies can still be read.
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Closes abruptly with a TCP reset (SO_LINGER 0, then close).
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close()
    }

    // MARK: - Reading

    /// Reads one complete reply (all its lines); nil at end of stream.
    func readReply() throws -> String? {
        var lines: [String] = []
        while true {
            guard let line = try readLine() else { return lines.isEmpty ? nil : lines.joined() }
            lines.append(line)
            let bytes = Array(line.utf8)
            if bytes.count < 4 || bytes[3] != UInt8(ascii: "-") { return lines.joined() }
        }
    }

    func readReplies(_ count: Int) throws -> [String] {
        try (0..<count).map { _ in try readReply() ?? "<closed>" }
    }

    /// Reads every reply until the peer closes.
    func readRepliesToEnd() throws -> [String] {
        var replies: [String] = []
        while let reply = try readReply() { replies.append(reply) }
        return replies
    }

    /// True when the peer has closed the connection (reads to the end; what is left is discarded).
    func isClosedByPeer() throws -> Bool {
        while try fill() {}
        buffer.removeAll()
        return true
    }

    private func readLine() throws -> String? {
        while true {
            if let lf = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[...lf])
                buffer.removeFirst(lf + 1)
                return String(decoding: line, as: UTF8.self)
            }
            guard try fill() else {
                if buffer.isEmpty { return nil }
                defer { buffer.removeAll() }
                return String(decoding: buffer, as: UTF8.self)
            }
        }
    }

    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0 {
            if errno == ECONNRESET { return false }
            throw Failure(description: "recv: \(String(cString: strerror(errno))) (timeout?)", code: errno)
        }
        if count == 0 { return false }
        buffer += chunk[..<count]
        return true
    }
}

/// Work on a thread of its own, for a blocking peer that must run alongside the test body (a
/// second client, a reader). Not a `Task`: tests block in socket calls, and a task could wait
/// for a cooperative-pool thread that blocked tests are all holding.
final class BackgroundThread<Value>: @unchecked Sendable {
    private var result: Result<Value, any Error>?
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () throws -> Value) {
        Thread { [self] in
            result = Result { try body() }
            done.signal()
        }.start()
    }

    /// Waits for the work to finish; its value or its error.
    func value() throws -> Value {
        done.wait()
        done.signal()
        return try result!.get()
    }
}

/// A value shared between a test and the threads of its fake peers.
final class LockedBox<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// Whether this machine has a usable IPv6 loopback (`::1` can be bound); the reason when not.
func ipv6LoopbackProblem() -> String? {
    let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return "socket(AF_INET6): \(String(cString: strerror(errno)))" }
    defer { close(fd) }
    var address = sockaddr_in6()
    address.sin6_family = sa_family_t(AF_INET6)
    address.sin6_addr = in6addr_loopback
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
    }
    return result == 0 ? nil : "bind [::1]:0: \(String(cString: strerror(errno)))"
}

/// A free TCP port on the IPv6 loopback.
func freeIPv6LoopbackPort() -> Int {
    let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in6()
    address.sin6_family = sa_family_t(AF_INET6)
    address.sin6_addr = in6addr_loopback
    var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin6_port))
}
