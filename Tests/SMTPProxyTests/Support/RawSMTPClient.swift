import Foundation

#if canImport(CNIOLinux)
// NIO's C shim can own sockaddr_in & co when it loads before Glibc in a compile job; with
// MemberImportVisibility their members then need this import.
import CNIOLinux
#endif

/// A blocking TCP client for exact bytes: what a test sends is what goes on the wire.
final class RawSMTPClient {
    private let fd: Int32
    private var buffer: [UInt8] = []

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// `source`: a local address to connect from (e.g. 127.0.0.9, to look like another client).
    init(port: Int, host: String = "127.0.0.1", timeout: Int = 30, source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { throw Failure(description: "bind to \(source): errno \(errno)") }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        address.sin_port = UInt16(port).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            // No close(fd) here: deinit runs for a class whose init throws after full
            // initialisation, and closes it; closing twice closed other threads' descriptors.
            throw Failure(description: "connect to \(port): errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// The local port of the connection (what the server sees as the client's port).
    var localPort: Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send: errno \(errno)") }
            offset += sent
        }
    }

    /// Half-closes the sending side.
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Closes abruptly.
    func abort() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        shutdown(fd, Int32(SHUT_RDWR))
    }

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

    /// Reads `count` replies.
    func readReplies(_ count: Int) throws -> [String] {
        try (0..<count).map { _ in try readReply() ?? "<closed>" }
    }

    /// Reads until the peer closes; returns everything.
    func readToEnd() throws -> String {
        while try fill() {}
        defer { buffer.removeAll() }
        return String(decoding: buffer, as: UTF8.self)
    }

    private func readLine() throws -> String? {
        while true {
            if let lf = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[...lf])
                buffer.removeFirst(lf + 1)
                return String(decoding: line, as: UTF8.self)
            }
            guard try fill() else { return nil }
        }
    }

    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0 {
            if errno == ECONNRESET { return false }
            throw Failure(description: "recv: errno \(errno) (timeout?)")
        }
        if count == 0 { return false }
        buffer += chunk[..<count]
        return true
    }
}
