/// How the engine reads the client's next bytes. It changes only on events the engine has seen:
/// a server reply (354 to DATA, 334 to AUTH, 220 to STARTTLS) or the BDAT size.
enum ClientMode: Sendable {
    /// Command lines.
    case commands
    /// The line answering a `334` challenge (AUTH, X-EXPS).
    case authResponse
    /// A DATA body until `CRLF.CRLF`. Not forwarded when the message was aborted.
    case dataBody(DataBodyScanner, forwarding: Bool)
    /// A BDAT chunk: `remaining` octets, counted, never parsed.
    case chunk(remaining: Int, forwarding: Bool, isLast: Bool)
    /// The binary data after `354` to XEXCH50: `remaining` octets, relayed, not message content.
    case blob(remaining: Int)
    /// Blind relay (after STARTTLS passthrough or a role reversal).
    case relay
    /// Input is discarded (after QUIT, a disconnect, or an abort).
    case closed
}
