/// Where an outside service listens, in Postfix's notation: a policy server's `service`, a
/// milter's `socket`. One parser, one set of messages for both keys.
public enum ServiceSocket: Hashable, Sendable, CustomStringConvertible {
    /// `inet:HOST:PORT` (`inet:[::1]:10023` for IPv6).
    case inet(host: String, port: Int)
    /// `unix:/path/to/socket`.
    case unix(path: String)

    /// Parses `inet:127.0.0.1:10023`, `inet:[::1]:10023`, `inet:policy.example:10023` or
    /// `unix:/run/postgrey.sock`.
    /// `key` names the rule-file key in the messages.
    public init(parsing text: String, key: String = "socket") throws(FilterError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard path.hasPrefix("/"), !path.contains(where: { $0.isNewline || $0 == "\0" }) else {
                throw FilterError("'\(key)' unix socket must be an absolute path (unix:/run/name.sock), not '\(text)'")
            }
            self = .unix(path: path)
            return
        }
        guard text.hasPrefix("inet:") else {
            throw FilterError("'\(key)' must be inet:HOST:PORT or unix:PATH, not '\(text)'")
        }
        let rest = text.dropFirst(5)
        let host: Substring
        let portText: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].hasPrefix(":") else {
                throw FilterError("'\(key)' IPv6 address must be written inet:[ADDRESS]:PORT, not '\(text)'")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            portText = rest[rest.index(close, offsetBy: 2)...]
        } else {
            guard let colon = rest.lastIndex(of: ":") else {
                throw FilterError("'\(key)' needs a port: inet:HOST:PORT, not '\(text)'")
            }
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        }
        let hostIsValid = !host.isEmpty && host.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":")
        }
        guard hostIsValid else { throw FilterError("'\(key)' has no valid host in '\(text)'") }
        guard !portText.isEmpty, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let port = Int(portText),
            (1...65535).contains(port)
        else {
            throw FilterError("'\(key)' port must be 1…65535, not '\(portText)' in '\(text)'")
        }
        self = .inet(host: String(host), port: port)
    }

    public var description: String {
        switch self {
        case .inet(let host, let port): host.contains(":") ? "inet:[\(host)]:\(port)" : "inet:\(host):\(port)"
        case .unix(let path): "unix:\(path)"
        }
    }
}
