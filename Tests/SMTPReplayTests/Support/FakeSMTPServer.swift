import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A scripted SMTP server on 127.0.0.1 for the resend's failure cases (a real server does not
/// go silent or answer twice on demand). Each connection gets `greeting`, then every line the
/// client sends is passed to `respond`, whose answer is written back: `.reply(lines)` (each
/// line gets CRLF), `.silence` (nothing, ever: the client must time out), `.close`.
///
///     let server = try FakeSMTPServer(greeting: "220 fake ESMTP") { line in
///         line.hasPrefix("EHLO") ? .silence : .reply(["250 ok"])
///     }
///     defer { server.stop() }
final class FakeSMTPServer: @unchecked Sendable {
    enum Answer: Sendable {
        case reply([String])
        case silence
        case close
    }

    let port: Int
    private let listener: Int32
    private let greeting: String
    private let respond: @Sendable (String) -> Answer
    private let lock = NSLock()
    private var connections: [Int32] = []
    private var stopped = false

    init(greeting: String = "220 fake.test ESMTP", respond: @escaping @Sendable (String) -> Answer) throws {
        self.greeting = greeting
        self.respond = respond
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listener = listener
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    var address: String { "127.0.0.1:\(port)" }

    func stop() {
        lock.lock()
        stopped = true
        // Under the lock: `serve` closes a descriptor (and forgets it) under it too, so every one
        // shut down here is still this server's. A closed number can be reused at once by any
        // socket of the process (the resend's own connection in another test).
        for descriptor in connections { shutdown(descriptor, Int32(SHUT_RDWR)) }
        connections = []
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let descriptor = accept(listener, nil, nil)
            guard descriptor >= 0 else { return }
            lock.lock()
            if stopped {
                lock.unlock()
                close(descriptor)
                return
            }
            connections.append(descriptor)
            lock.unlock()
            let thread = Thread { [self] in serve(descriptor) }
            thread.start()
        }
    }

    private func serve(_ descriptor: Int32) {
        defer {
            lock.lock()
            connections.removeAll { $0 == descriptor }
            close(descriptor)
            lock.unlock()
        }
        write(descriptor, greeting + "\r\n")
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var silent = false
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { return }
            pending += buffer[0..<count]
            while let newline = pending.firstIndex(of: 0x0A) {
                var line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                if line.last == 0x0D { line.removeLast() }
                guard !silent else { continue }
                switch respond(String(decoding: line, as: UTF8.self)) {
                case .reply(let lines):
                    write(descriptor, lines.map { $0 + "\r\n" }.joined())
                case .silence:
                    silent = true
                case .close:
                    shutdown(descriptor, Int32(SHUT_RDWR))
                    return
                }
            }
        }
    }

    private func write(_ descriptor: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}
