/// One entry of `settings.milters:` (SPEC §12): a Sendmail/Postfix milter asked about every
/// session and message, in list order.
///
///     settings:
///       milters:
///         - name: rspamd
///           socket: inet:127.0.0.1:11332     # or unix:/run/rspamd/milter.sock
///           timeout: 30s                      # per answer (connect, each stage, end of message)
///           on-error: tempfail                # accept | tempfail | reject
public struct MilterSettings: Hashable, Sendable {
    /// Where the milter listens, in Postfix's `smtpd_milters` notation.
    public typealias Socket = ServiceSocket

    /// What a milter that is down, slow, or answers garbage counts as.
    public enum OnError: String, Hashable, Sendable, CaseIterable {
        /// As if the milter had accepted: it is skipped for the rest of the session.
        case accept
        /// `451 4.7.1` (at connect `421 4.7.1`), for this command and every later one of the session.
        case tempfail
        /// `550 5.7.1` (at connect `554 5.7.1`), for this command and every later one of the session.
        case reject
    }

    public var name: String
    public var socket: Socket
    /// How long one answer may take: the connection, each stage, each body chunk, end of message
    /// (a milter's `progress` restarts it).
    public var timeout: Duration
    public var onError: OnError
    /// Where it is defined: the file and the line of its `name:` key.
    public var location: RuleLocation

    public static let defaultTimeout = Duration.seconds(30)

    public init(
        name: String, socket: Socket, timeout: Duration = MilterSettings.defaultTimeout, onError: OnError = .tempfail,
        location: RuleLocation = RuleLocation(file: "", line: 0)
    ) {
        self.name = name
        self.socket = socket
        self.timeout = timeout
        self.onError = onError
        self.location = location
    }
}
