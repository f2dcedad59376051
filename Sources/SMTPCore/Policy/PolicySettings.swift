/// The `settings:` of the rule files (SPEC §3). Nil limits mean: no limit of the proxy's own.
public struct PolicySettings: Hashable, Sendable {
    /// Replaces the text of the server's `220` greeting.
    public var banner: String?
    /// Octets per command line, line end included; longer lines get `500 5.5.2`.
    public var maxLineLength: Int?
    /// RCPT commands per transaction; more get `452 4.5.3`.
    public var maxRecipients: Int?
    /// Message octets; more get `552 5.3.4` and the message is never delivered.
    public var maxMessageSize: Int?
    public var bareNewline: BareNewlinePolicy
    /// `greet-pause`: the upstream's greeting is held this long (postscreen's pregreet window).
    public var greetPause: Duration?
    /// `pregreet`: what happens to a client that talks before the greeting reached it; nil
    /// (neither `pregreet` nor `greet-pause` set) does not watch for it.
    public var pregreet: PregreetAction?

    public init(
        banner: String? = nil,
        maxLineLength: Int? = nil,
        maxRecipients: Int? = nil,
        maxMessageSize: Int? = nil,
        bareNewline: BareNewlinePolicy = .normalize
    ) {
        self.banner = banner
        self.maxLineLength = maxLineLength
        self.maxRecipients = maxRecipients
        self.maxMessageSize = maxMessageSize
        self.bareNewline = bareNewline
    }
}
