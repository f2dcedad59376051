/// How the engine treats STARTTLS (SPEC §4).
public enum TLSMode: String, Hashable, Sendable, CaseIterable {
    /// After the server's `220` to STARTTLS both directions are relayed blind; plain text the
    /// client pipelined after STARTTLS is discarded (CVE-2011-0411 class).
    case passthrough
    /// STARTTLS is removed from EHLO replies and refused, so the session stays inspectable.
    case strip
    /// The proxy terminates TLS on both legs itself (the deployment driver; see SPEC §4).
    case terminate
}
