/// The engine's own bounds: protocol safety that applies with or without rules.
///
/// RFC 5321 §4.5.3.1 sets minimums a server must accept (command line 512 octets, text line 1000,
/// reply line 512); real clients exceed them (long EHLO names, GSSAPI tokens in AUTH), so the hard
/// bounds here are generous and exist to keep memory bounded. Rules lower them (`limits:`).
public enum SMTPDefaults {
    /// Longest command line the engine will read at all, line end included.
    public static let maximumCommandLineLength = 65_536
    /// Longest reply (all lines together) the engine accepts from a server.
    public static let maximumReplyLength = 65_536
    /// Commands awaiting a reply before the engine asks its driver to stop reading the client.
    public static let maximumPipelinedCommands = 1_000
    /// Client octets the engine holds while it waits for a reply that decides how to read them
    /// (after DATA, AUTH, STARTTLS). A live proxy stops reading first (see `dataReadAhead`), so
    /// only a hostile or broken capture reaches it.
    public static let maximumHeldClientBytes = 4 << 20
    /// Client octets a live proxy reads ahead while it waits for the reply to DATA (one more read
    /// may land on top); it stops reading past this, far below `maximumHeldClientBytes`.
    public static let dataReadAhead = 64 * 1024
    /// Longest header value kept for the audit log (`Subject`, `Message-ID`), per RFC 5322 §2.1.1.
    public static let maximumHeaderValueLength = 998
    /// Octets of a message searched for its header values; past this the header section is
    /// considered over (the body is not scanned for headers).
    public static let maximumHeaderSectionLength = 256 * 1024
}
