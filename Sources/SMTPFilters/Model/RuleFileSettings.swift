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

    public init(
        banner: String? = nil,
        maxLineLength: Int? = nil,
        maxRecipients: Int? = nil,
        maxMessageSize: Int? = nil,
        bareNewline: BareNewlinePolicy? = nil
    ) {
        self.banner = banner
        self.maxLineLength = maxLineLength
        self.maxRecipients = maxRecipients
        self.maxMessageSize = maxMessageSize
        self.bareNewline = bareNewline
    }
}
