#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import struct NIOCore.ByteBuffer

/// A plain TCP client socket for the resend: one connection, one thread, every wait bounded by
/// a `Deadline` (`poll(2)` on a non-blocking descriptor), so a silent server costs a timeout,
/// never a hang. Host names, IPv4 and IPv6 (`getaddrinfo`, each address in turn).
///
///     let socket = try BlockingTCPSocket.connect(host: "::1", port: 25, timeout: 10)
///     var inbound = ByteBuffer()
///     try socket.write(ByteBuffer(string: "EHLO x\r\n"), until: Deadline(after: 30), readingInto: &inbound)
///     switch socket.read(into: &inbound, until: Deadline(after: 30)) { … }
///
/// Writing also reads what the server sends meanwhile (a server that answers pipelined commands
/// while the client still writes must not fill its buffers against ours). Writes never raise
/// SIGPIPE.
final class BlockingTCPSocket {
    enum ReadResult: Equatable {
        case data(Int)
        /// The server closed its side (EOF).
        case closed
        case timedOut
        case failed(String)
    }

    private var descriptor: Int32
    /// The server's EOF was read.
    private(set) var peerClosed = false
    /// The address connected to, as text.
    let remoteDescription: String

    private init(descriptor: Int32, remoteDescription: String) {
        self.descriptor = descriptor
        self.remoteDescription = remoteDescription
    }

    deinit {
        closeNow()
    }

    static func connect(host: String, port: Int, timeout: Double) throws(SocketFailure) -> BlockingTCPSocket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw SocketFailure("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        let deadline = Deadline(after: timeout)
        var failures: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            cursor = entry.pointee.ai_next
            let address = numericHost(entry.pointee.ai_addr, entry.pointee.ai_addrlen)
            switch open(entry.pointee, until: deadline) {
            case .success(let descriptor):
                return BlockingTCPSocket(descriptor: descriptor, remoteDescription: address)
            case .failure(let reason):
                failures.append("\(address): \(reason)")
            }
        }
        let target = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        if failures.count == 1, let reason = failures.first?.split(separator: " ", maxSplits: 1).last {
            throw SocketFailure("cannot connect to \(target): \(reason)")
        }
        throw SocketFailure("cannot connect to \(target): " + failures.joined(separator: "; "))
    }

    private static func open(_ entry: addrinfo, until deadline: Deadline) -> Result<Int32, SocketFailure> {
        let descriptor = socket(entry.ai_family, entry.ai_socktype, entry.ai_protocol)
        guard descriptor >= 0 else { return .failure(SocketFailure(errorText())) }
        let flags = fcntl(descriptor, F_GETFL)
        guard flags >= 0, fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) == 0 else {
            // A blocking socket would ignore every deadline below.
            let reason = errorText()
            _ = systemClose(descriptor)  // abandoned: the error that matters is the one above
            return .failure(SocketFailure(reason))
        }
        #if canImport(Darwin)
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        if systemConnect(descriptor, entry.ai_addr, entry.ai_addrlen) != 0 {
            guard errno == EINPROGRESS || errno == EINTR else {
                let reason = errorText()
                _ = systemClose(descriptor)  // abandoned after a failed connect: nothing was written to it
                return .failure(SocketFailure(reason))
            }
            var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            var ready: Int32
            repeat {
                ready = poll(&poller, 1, deadline.remainingMilliseconds)
            } while ready < 0 && errno == EINTR
            guard ready > 0 else {
                _ = systemClose(descriptor)  // abandoned after a failed connect: nothing was written to it
                return .failure(SocketFailure(ready == 0 ? "timed out" : errorText()))
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else {
                _ = systemClose(descriptor)  // abandoned after a failed connect: nothing was written to it
                return .failure(SocketFailure(String(cString: strerror(error))))
            }
        }
        return .success(descriptor)
    }

    /// Writes all of `bytes`; what the server sends meanwhile goes into `inbound`.
    func write(_ bytes: ByteBuffer, until deadline: Deadline, readingInto inbound: inout ByteBuffer) throws(SocketFailure) {
        var offset = 0
        let total = bytes.readableBytes
        while offset < total {
            guard descriptor >= 0 else { throw SocketFailure("connection closed") }
            let wantsInput = !peerClosed
            var poller = pollfd(fd: descriptor, events: Int16(POLLOUT) | (wantsInput ? Int16(POLLIN) : 0), revents: 0)
            let ready = poll(&poller, 1, deadline.remainingMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw SocketFailure(Self.errorText())
            }
            if ready == 0 { throw SocketFailure("timed out sending (\(offset) of \(total) octets sent)") }
            if wantsInput && poller.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                if case .failed(let reason) = readAvailable(into: &inbound) { throw SocketFailure(reason) }
            }
            if poller.revents & Int16(POLLOUT | POLLERR | POLLHUP) != 0 {
                let sent = bytes.withUnsafeReadableBytes { raw in
                    systemSend(descriptor, raw.baseAddress! + offset, total - offset)
                }
                if sent > 0 {
                    offset += sent
                } else if sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                    throw SocketFailure(Self.errorText())
                }
            }
        }
    }

    /// Waits for bytes until `deadline`; appends what arrived to `inbound`.
    func read(into inbound: inout ByteBuffer, until deadline: Deadline) -> ReadResult {
        while true {
            guard descriptor >= 0, !peerClosed else { return .closed }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, deadline.remainingMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                return .failed(Self.errorText())
            }
            if ready == 0 { return .timedOut }
            let result = readAvailable(into: &inbound)
            if case .timedOut = result { continue }  // spurious wake-up
            return result
        }
    }

    /// Whatever is already there, without waiting.
    func drain(into inbound: inout ByteBuffer) -> ReadResult {
        var total = 0
        while true {
            switch read(into: &inbound, until: Deadline(after: 0)) {
            case .data(let count): total += count
            case .timedOut: return .data(total)
            case .closed: return total > 0 ? .data(total) : .closed
            case .failed(let reason): return .failed(reason)
            }
        }
    }

    /// One `recv(2)`: `.timedOut` when nothing was there after all.
    private func readAvailable(into inbound: inout ByteBuffer) -> ReadResult {
        let descriptor = descriptor
        var received = 0
        var error: Int32 = 0
        inbound.writeWithUnsafeMutableBytes(minimumWritableBytes: 16 * 1024) { raw in
            received = recv(descriptor, raw.baseAddress!, raw.count, 0)
            if received < 0 { error = errno }
            return max(received, 0)
        }
        if received > 0 { return .data(received) }
        if received == 0 || error == ECONNRESET {
            peerClosed = true
            return .closed
        }
        if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return .timedOut }
        return .failed(String(cString: strerror(error)))
    }

    /// Half-closes: the server reads EOF, as from a client that is done.
    func shutdownOutput() {
        guard descriptor >= 0 else { return }
        // Fails only on a socket that is already gone, which the next read reports.
        _ = shutdown(descriptor, Int32(SHUT_WR))
    }

    func closeNow() {
        guard descriptor >= 0 else { return }
        _ = systemClose(descriptor)  // end of a resend: every reply was read before, close only releases the descriptor
        descriptor = -1
    }

    private static func errorText() -> String {
        String(cString: strerror(errno))
    }

    private static func numericHost(_ address: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t) -> String {
        guard let address else { return "?" }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        guard getnameinfo(address, length, &host, socklen_t(host.count), &service, socklen_t(service.count), NI_NUMERICHOST | NI_NUMERICSERV) == 0
        else { return "?" }
        let text = cString(host)
        return text.contains(":") ? "[\(text)]:\(cString(service))" : "\(text):\(cString(service))"
    }

    private static func cString(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

@available(*, unavailable)
extension BlockingTCPSocket: Sendable {}

// The system calls whose names the class's methods would hide.
private func systemConnect(_ descriptor: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t) -> Int32 {
    connect(descriptor, address, length)
}

private func systemClose(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}

private func systemSend(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Darwin)
    return send(descriptor, bytes, count, 0)
    #else
    return send(descriptor, bytes, count, Int32(MSG_NOSIGNAL))
    #endif
}
