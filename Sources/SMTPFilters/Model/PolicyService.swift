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
    /// Where the server listens, in Postfix's notation (the same notation as a milter's `socket`).
    public typealias Address = ServiceSocket

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
