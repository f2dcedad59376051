import IPAddressing

/// The set-up bytes of a proxy tunnel in front of an SMTP session: an HTTP `CONNECT`, or a
/// SOCKS4/4a/5 handshake. The replay skips them and inspects what runs inside.
///
///     client: CONNECT mx.example.org:25 HTTP/1.0\r\n\r\n      server: HTTP/1.0 200 OK\r\n\r\n220 mx …
///     → .tunnel(clientLength: 44, serverLength: 19, description: "HTTP CONNECT mx.example.org:25")
///
/// SOCKS5 user names and passwords are skipped and never shown.
struct TunnelPrefix: Equatable {
    var clientLength: Int
    var serverLength: Int
    var description: String

    enum Parse: Equatable {
        case needMore
        /// Not a tunnel set-up (or not one this parser knows).
        case none
        /// A tunnel request the proxy refused: nothing runs inside.
        case refused
        case tunnel(TunnelPrefix)
    }

    /// Looks for a tunnel set-up with `client` as the side that asked for it.
    static func parse(client: UnsafeRawBufferPointer, server: UnsafeRawBufferPointer) -> Parse {
        // Tunnel clients speak first: a silent side asked for nothing.
        guard let first = client.first else { return .none }
        if first == UInt8(ascii: "C") { return httpConnect(client: client, server: server) }
        if first == 0x05 { return socks5(client: client, server: server) }
        if first == 0x04 { return socks4(client: client, server: server) }
        return .none
    }

    // MARK: - HTTP CONNECT (RFC 9110 §9.3.6)

    static func httpConnect(client: UnsafeRawBufferPointer, server: UnsafeRawBufferPointer) -> Parse {
        let method = Array("CONNECT ".utf8)
        guard client.count >= method.count else { return client.elementsEqual(method.prefix(client.count)) ? .needMore : .none }
        guard client.starts(with: method) else { return .none }
        guard let clientEnd = headerEnd(client) else { return client.count > 8192 ? .none : .needMore }
        let requestLine = client[method.count..<clientEnd]
        let target = String(decoding: requestLine.prefix { $0 != 0x20 && $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
        let version = Array("HTTP/1.".utf8)
        guard server.count >= version.count + 5 else { return .needMore }
        guard server.starts(with: version) else { return .none }
        guard let serverEnd = headerEnd(server) else { return server.count > 8192 ? .none : .needMore }
        let status = server[(version.count + 2)...].prefix(3)
        guard status.count == 3, status.first == UInt8(ascii: "2") else { return .refused }
        return .tunnel(TunnelPrefix(clientLength: clientEnd, serverLength: serverEnd, description: "HTTP CONNECT \(target.prefix(200))"))
    }

    /// The length up to and including the first empty line (`\r\n\r\n` or `\n\n`).
    private static func headerEnd(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var index = 0
        while index < bytes.count, index < 8192 {
            if bytes[index] == 0x0A {
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A { return index + 2 }
                if index + 2 < bytes.count, bytes[index + 1] == 0x0D, bytes[index + 2] == 0x0A { return index + 3 }
            }
            index += 1
        }
        return nil
    }

    // MARK: - SOCKS5 (RFC 1928, RFC 1929)

    static func socks5(client: UnsafeRawBufferPointer, server: UnsafeRawBufferPointer) -> Parse {
        // Client greeting: VER NMETHODS METHODS…; server choice: VER METHOD.
        guard client.count >= 2 else { return .needMore }
        let methods = Int(client[1])
        guard methods >= 1 else { return .none }
        var clientCursor = 2 + methods
        guard client.count >= clientCursor else { return .needMore }
        guard server.count >= 2 else { return .needMore }
        guard server[0] == 0x05 else { return .none }
        var serverCursor = 2
        switch server[1] {
        case 0x00:
            break
        case 0x02:
            // Username/password sub-negotiation: VER ULEN UNAME PLEN PASSWD; reply VER STATUS.
            guard client.count >= clientCursor + 2 else { return .needMore }
            guard client[clientCursor] == 0x01 else { return .none }
            let userLength = Int(client[clientCursor + 1])
            guard client.count >= clientCursor + 2 + userLength + 1 else { return .needMore }
            let passwordLength = Int(client[clientCursor + 2 + userLength])
            clientCursor += 3 + userLength + passwordLength
            guard server.count >= serverCursor + 2 else { return .needMore }
            guard server[serverCursor + 1] == 0x00 else { return .refused }
            serverCursor += 2
        default:
            return .refused
        }
        // Request: VER CMD RSV ATYP DST.ADDR DST.PORT; reply: VER REP RSV ATYP BND.ADDR BND.PORT.
        guard let request = socks5Address(client, at: clientCursor) else { return .needMore }
        guard request.valid, client[clientCursor + 1] == 0x01 else { return .none }
        guard let reply = socks5Address(server, at: serverCursor) else { return .needMore }
        guard reply.valid else { return .none }
        guard server[serverCursor + 1] == 0x00 else { return .refused }
        return .tunnel(
            TunnelPrefix(clientLength: request.end, serverLength: reply.end, description: "SOCKS5 CONNECT \(request.target)"))
    }

    /// Reads `VER x RSV ATYP ADDR PORT` at `start`: nil when incomplete.
    private static func socks5Address(_ bytes: UnsafeRawBufferPointer, at start: Int) -> (valid: Bool, end: Int, target: String)? {
        guard bytes.count >= start + 5 else { return nil }
        guard bytes[start] == 0x05 else { return (false, 0, "") }
        let addressStart = start + 4
        let addressLength: Int
        switch bytes[start + 3] {
        case 0x01: addressLength = 4
        case 0x03: addressLength = 1 + Int(bytes[addressStart])
        case 0x04: addressLength = 16
        default: return (false, 0, "")
        }
        let end = addressStart + addressLength + 2
        guard bytes.count >= end else { return nil }
        let port = Int(bytes[end - 2]) << 8 | Int(bytes[end - 1])
        let host: String
        switch bytes[start + 3] {
        case 0x03:
            host = String(decoding: bytes[(addressStart + 1)..<(addressStart + addressLength)], as: UTF8.self)
        default:
            host = IPAddress(bytes: bytes[addressStart..<(addressStart + addressLength)])?.description ?? "?"
        }
        return (true, end, "\(host):\(port)")
    }

    // MARK: - SOCKS4 / SOCKS4a

    static func socks4(client: UnsafeRawBufferPointer, server: UnsafeRawBufferPointer) -> Parse {
        // VER=4 CMD=1 DSTPORT DSTIP USERID NUL [HOST NUL when DSTIP is 0.0.0.x]; reply: 0 REP PORT IP.
        guard client.count >= 9 else { return .needMore }
        guard client[1] == 0x01 else { return .none }
        guard let userEnd = client[8...].firstIndex(of: 0) else { return client.count > 1024 ? .none : .needMore }
        var end = userEnd + 1
        var host = IPAddress(bytes: client[4..<8])?.description ?? "?"
        if client[4] == 0, client[5] == 0, client[6] == 0, client[7] != 0 {
            guard let hostEnd = client[end...].firstIndex(of: 0) else { return client.count > 1024 ? .none : .needMore }
            host = String(decoding: client[end..<hostEnd], as: UTF8.self)
            end = hostEnd + 1
        }
        guard server.count >= 8 else { return .needMore }
        guard server[0] == 0x00 else { return .none }
        guard server[1] == 0x5A else { return .refused }
        let port = Int(client[2]) << 8 | Int(client[3])
        return .tunnel(TunnelPrefix(clientLength: end, serverLength: 8, description: "SOCKS4 CONNECT \(host):\(port)"))
    }
}
