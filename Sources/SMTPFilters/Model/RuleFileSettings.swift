import SMTPCore

/// The `settings:` of one rule file; nil for each setting the file leaves out.
///
///     settings:
///       banner: "mx.example.org ESMTP"
///       limits:
///         max-line-length: 4096
///         max-recipients: 100
///         max-message-size: 52428800
///       bare-newline: normalize
///       client-limits-track: 100000
///       greet-pause: 2s
///       pregreet: reject
///
/// Files are merged into one `PolicySettings` by `PolicySettings(merging:)`.
public struct RuleFileSettings: Hashable, Sendable {
    public var banner: String?
    public var maxLineLength: Int?
    public var maxRecipients: Int?
    public var maxMessageSize: Int?
    public var bareNewline: BareNewlinePolicy?
    /// `milters:` (SPEC §12), in file order; nil when the file has none.
    public var milters: [MilterSettings]?
    /// `spool:`: where a held message larger than 1 MiB waits.
    public var spool: String?
    /// `client-limits-track`, `greet-pause`, `pregreet` (SPEC §10; merged into `ClientLimits`).
    public var clientLimitsTrack: Int?
    public var greetPause: Duration?
    public var pregreet: PregreetPolicy?

    public init(
        banner: String? = nil,
        maxLineLength: Int? = nil,
        maxRecipients: Int? = nil,
        maxMessageSize: Int? = nil,
        bareNewline: BareNewlinePolicy? = nil,
        clientLimitsTrack: Int? = nil,
        greetPause: Duration? = nil,
        pregreet: PregreetPolicy? = nil
    ) {
        self.banner = banner
        self.maxLineLength = maxLineLength
        self.maxRecipients = maxRecipients
        self.maxMessageSize = maxMessageSize
        self.bareNewline = bareNewline
        self.clientLimitsTrack = clientLimitsTrack
        self.greetPause = greetPause
        self.pregreet = pregreet
    }
}
