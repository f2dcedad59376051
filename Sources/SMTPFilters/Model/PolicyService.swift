import SMTPCore

/// The outside service an `action: policy` rule asks (SPEC §11): a Postfix SMTP access policy
/// server (`check_policy_service`), how long to wait for it and what to do when it fails.
///
///     - name: greylist
///       command: RCPT
///       action: policy
///       service: inet:127.0.0.1:10023   # or unix:/run/postgrey.sock
///       timeout: 10s                    # per request (default 10s)
///       on-error: allow                 # allow (default) | tempfail (451 4.3.5)
public struct PolicyService: Hashable, Sendable, CustomStringConvertible {
    /// Where the server listens, in Postfix's notation.
    public enum Address: Hashable, Sendable, CustomStringConvertible {
        /// `inet:HOST:PORT` (`inet:[::1]:10023` for IPv6).
        case inet(host: String, port: Int)
        /// `unix:/path/to/socket`.
        case unix(path: String)

        /// Parses `inet:127.0.0.1:10023`, `inet:[::1]:10023`, `inet:policy.example:10023` or
        /// `unix:/run/postgrey.sock`.
        public init(parsing text: String) throws(FilterError) {
            if text.hasPrefix("unix:") {
                let path = String(text.dropFirst(5))
                guard path.hasPrefix("/"), !path.contains(where: { $0.isNewline || $0 == "\0" }) else {
                    throw FilterError("'service' unix socket must be an absolute path: unix:/run/policy.sock, not '\(text)'")
                }
                self = .unix(path: path)
                return
            }
            guard text.hasPrefix("inet:") else {
                throw FilterError("'service' must be inet:HOST:PORT or unix:PATH, not '\(text)'")
            }
            let rest = text.dropFirst(5)
            let host: Substring
            let portText: Substring
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].hasPrefix(":") else {
                    throw FilterError("'service' IPv6 address must be written inet:[ADDRESS]:PORT, not '\(text)'")
                }
                host = rest[rest.index(after: rest.startIndex)..<close]
                portText = rest[rest.index(close, offsetBy: 2)...]
            } else {
                guard let colon = rest.lastIndex(of: ":") else {
                    throw FilterError("'service' needs a port: inet:HOST:PORT, not '\(text)'")
                }
                host = rest[..<colon]
                portText = rest[rest.index(after: colon)...]
            }
            let hostIsValid = !host.isEmpty && host.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":")
            }
            guard hostIsValid else { throw FilterError("'service' has no valid host in '\(text)'") }
            guard !portText.isEmpty, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let port = Int(portText),
                (1...65535).contains(port)
            else {
                throw FilterError("'service' port must be 1…65535, not '\(portText)' in '\(text)'")
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

    /// `on-error`: what the command gets when the server is down, slow or answers garbage.
    public enum ErrorMode: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
        /// Go on as if the server had answered `DUNNO` (the default: mail keeps flowing).
        case allow
        /// `451 4.3.5` to the command: the client retries later.
        case tempfail

        public var description: String { rawValue }
    }

    /// The verbs a policy rule may name (Postfix's protocol states), plus `END-OF-MESSAGE`.
    public static let commands: [String] = ["HELO", "EHLO", "MAIL", "RCPT", "DATA", "VRFY", "ETRN", "END-OF-MESSAGE"]
    /// The pseudo-verb of the end-of-message stage in `command:`.
    public static let endOfMessage = SMTPVerb("END-OF-MESSAGE")
    public static let defaultTimeout: Duration = .seconds(10)

    public var address: Address
    public var timeout: Duration
    public var onError: ErrorMode

    public init(address: Address, timeout: Duration = PolicyService.defaultTimeout, onError: ErrorMode = .allow) {
        self.address = address
        self.timeout = timeout
        self.onError = onError
    }

    public var description: String { address.description }
}
