import Foundation

#if canImport(CNIOLinux)
// NIO's C shim can own sockaddr_in & co when it loads before Glibc in a compile job; with
// MemberImportVisibility their members then need this import.
import CNIOLinux
#endif

/// A scripted SMTP server on a free loopback port, for the faults a real Postfix cannot be made to
/// commit on cue: closing the connection at a chosen command, reading a message body slowly and
/// then not at all. Plain blocking sockets, one thread per connection; `script` plays the server.
///
///     let upstream = try FakeUpstream { connection in
///         connection.send("220 fake ESMTP\r\n")
///         _ = try connection.readLine()            // EHLO
///         ...
///     }
final class FakeUpstream: @unchecked Sendable {
    let host: String
    let port: Int
    private let listenFD: Int32
    private let lock = NSLock()
    private var acceptedCount = 0
    private var open: [Connection] = []
    private var failures: [String] = []
    private var stopped = false

    /// `host`: `127.0.0.1` or `::1`.
    init(host: String = "127.0.0.1", script: @escaping @Sendable (Connection) throws -> Void) throws {
        self.host = host
        let v6 = host.contains(":")
        let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var bound: Int32
        var port = 0
        if v6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_addr = in6addr_loopback
            var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            port = Int(UInt16(bigEndian: address.sin6_port))
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr(host)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            port = Int(UInt16(bigEndian: address.sin_port))
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw OperationsClient.Failure(description: "fake upstream cannot listen on \(host): \(reason)")
        }
        listenFD = fd
        self.port = port
        Thread { [self] in acceptLoop(script) }.start()
    }

    deinit { stop() }

    /// Connections accepted so far.
    var accepted: Int { lock.withLock { acceptedCount } }

    /// What the scripts threw (a failed expectation inside the fake server).
    var scriptFailures: [String] { lock.withLock { failures } }

    /// Stops listening and closes every connection.
    func stop() {
        let connections = lock.withLock { () -> [Connection] in
            guard !stopped else { return [] }
            stopped = true
            return open
        }
        shutdown(listenFD, Int32(SHUT_RDWR))
        for connection in connections { connection.close() }
    }

    private func acceptLoop(_ script: @escaping @Sendable (Connection) throws -> Void) {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                break
            }
            let connection = Connection(fd: fd)
            let keep = lock.withLock { () -> Bool in
                acceptedCount += 1
                if stopped { return false }
                open.append(connection)
                return true
            }
            guard keep else {
                connection.close()
                continue
            }
            Thread { [self] in
                do {
                    try script(connection)
                } catch {
                    lock.withLock { failures.append("\(error)") }
                }
                connection.close()
            }.start()
        }
        close(listenFD)
    }

    /// One accepted connection, seen from the fake server.
    final class Connection: @unchecked Sendable {
        private let fd: Int32
        private var buffer: [UInt8] = []
        private let lock = NSLock()
        private var closed = false

        init(fd: Int32) { self.fd = fd }

        func send(_ text: String) {
            let bytes = Array(text.utf8)
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { return }
                offset += sent
            }
        }

        /// The next line, CRLF included; nil at end of stream.
        func readLine() throws -> String? {
            while true {
                if let lf = buffer.firstIndex(of: 0x0A) {
                    let line = Array(buffer[...lf])
                    buffer.removeFirst(lf + 1)
                    return String(decoding: line, as: UTF8.self)
                }
                guard try fill() else { return nil }
            }
        }

        /// The next command line's verb, upper case, and the whole line.
        func readCommand() throws -> (verb: String, line: String)? {
            guard let line = try readLine() else { return nil }
            // By Unicode scalars: as Characters, "\r\n" is one grapheme that equals neither "\r" nor "\n".
            let verb = String(String.UnicodeScalarView(line.unicodeScalars.prefix { $0 != " " && $0 != "\r" && $0 != "\n" })).uppercased()
            return (verb, line)
        }

        /// Reads a DATA body up to and including `CRLF.CRLF`, feeding every octet (the final dot line
        /// excluded) to `digest`. With `pauseAfter`, stops reading once that many octets were read
        /// and waits for `gate` before reading on. Returns the body's length, or nil when the
        /// connection ended first.
        func readBody(pauseAfter: Int? = nil, gate: Gate? = nil, digest: inout BodyDigest) throws -> Int? {
            var paused = false
            while true {
                if let length = digest.consume(&buffer) { return length }
                if let pauseAfter, let gate, !paused, digest.length >= pauseAfter {
                    paused = true
                    digest.readBeforePause = digest.length
                    gate.wait()
                }
                guard try fill() else { return nil }
            }
        }

        /// Closes with a TCP reset (SO_LINGER 0), as a server does that closes with unread input.
        func reset() {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            let first = lock.withLock { () -> Bool in
                defer { closed = true }
                return !closed
            }
            if first { Glibc.close(fd) }
        }

        func close() {
            let first = lock.withLock { () -> Bool in
                defer { closed = true }
                return !closed
            }
            guard first else { return }
            shutdown(fd, Int32(SHUT_RDWR))
            Glibc.close(fd)
        }

        private func fill() throws -> Bool {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return false }
            buffer += chunk[..<count]
            return true
        }
    }

    /// A one-shot latch: `wait()` blocks until `open()`.
    final class Gate: @unchecked Sendable {
        private let condition = NSCondition()
        private var isOpen = false
        private(set) var waiting = false

        func wait() {
            condition.lock()
            waiting = true
            condition.broadcast()
            while !isOpen { condition.wait() }
            condition.unlock()
        }

        func open() {
            condition.lock()
            isOpen = true
            condition.broadcast()
            condition.unlock()
        }

        /// Whether a reader is (or was) held at the gate.
        var hasWaiter: Bool {
            condition.lock()
            defer { condition.unlock() }
            return waiting
        }
    }
}

/// Length and FNV-1a hash of a DATA body as it streams past, to compare a 64 MiB body byte for
/// byte without keeping it. The body is everything before the end-of-data line `.CRLF` (its
/// last CRLF included), exactly as the client's message is sent after dot-stuffing.
struct BodyDigest: Sendable {
    private(set) var length = 0
    private(set) var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    /// Octets read before the reader paused (see `FakeUpstream.Connection.readBody`).
    var readBeforePause = 0
    private var atStart = true

    init() {}

    mutating func add(_ bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty else { return }
        var hash = self.hash
        bytes.withUnsafeBufferPointer { pointer in
            for byte in pointer {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
        }
        self.hash = hash
        length += bytes.count
        atStart = false
    }

    /// Digests `buffer` up to the end-of-data line (consumed, not digested); returns the body's
    /// length when the end was found, else nil (all but the last four octets consumed: they may
    /// begin the end-of-data line).
    mutating func consume(_ buffer: inout [UInt8]) -> Int? {
        let end: [UInt8] = [0x2E, 0x0D, 0x0A]
        if atStart, buffer.count >= 3, Array(buffer[0..<3]) == end {
            buffer.removeFirst(3)
            atStart = false
            return length
        }
        let found = buffer.withUnsafeBufferPointer { bytes -> Int? in
            var index = 2
            while index + 2 < bytes.count {
                if bytes[index] == 0x2E, bytes[index - 2] == 0x0D, bytes[index - 1] == 0x0A, bytes[index + 1] == 0x0D,
                    bytes[index + 2] == 0x0A
                {
                    return index
                }
                index += 1
            }
            return nil
        }
        if let index = found {
            add(buffer[0..<index])
            buffer.removeFirst(index + 3)
            return length
        }
        let keep = min(4, buffer.count)
        if buffer.count > keep {
            add(buffer[0..<(buffer.count - keep)])
            buffer.removeFirst(buffer.count - keep)
        }
        return nil
    }

    /// The digest of bytes the test sent, to compare with what the upstream received.
    static func of(_ chunks: [[UInt8]]) -> BodyDigest {
        var digest = BodyDigest()
        for chunk in chunks { digest.add(chunk[...]) }
        return digest
    }
}

extension FakeUpstream {
    /// A server that keeps up: greets as `name`, offers PIPELINING to EHLO, answers QUIT with 221
    /// (and hangs up), answers DATA with 354 and hands the body to `data` (which reads it and
    /// returns the final reply), and answers anything else — DATA too, without `data` — with
    /// `reply`. `onCommand` sees every verb first.
    static func answering(
        as name: String = "fake.test",
        reply: String = "250 2.0.0 Ok\r\n",
        onCommand: (@Sendable (String) -> Void)? = nil,
        data: (@Sendable (Connection) throws -> String)? = nil
    ) throws -> FakeUpstream {
        try FakeUpstream { connection in
            connection.send("220 \(name) ESMTP\r\n")
            while let command = try connection.readCommand() {
                onCommand?(command.verb)
                switch command.verb {
                case "EHLO": connection.send("250-\(name)\r\n250 PIPELINING\r\n")
                case "DATA":
                    guard let data else { fallthrough }
                    connection.send("354 go ahead\r\n")
                    connection.send(try data(connection))
                case "QUIT":
                    connection.send("221 2.0.0 Bye\r\n")
                    return
                default: connection.send(reply)
                }
            }
        }
    }
}
