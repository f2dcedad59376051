/// What the engine does with a bare CR, a bare LF or a NUL in DATA and in command lines — the raw
/// material of SMTP smuggling. The names are Postfix's (`smtpd_forbid_bare_newline`).
///
/// - `normalize` (default): a bare LF or CR ends the line and is forwarded as CRLF, a NUL in DATA is
///   forwarded as a space, and a line that is a lone `.` but not a real end of data is forwarded
///   dot-stuffed (`..`). The upstream can then read the message only one way: the proxy's way.
///   In a command line a bare LF ends the command (forwarded with CRLF); a bare CR or a NUL inside
///   it gets `500 5.5.2` and the line is not forwarded.
/// - `reject`: the first bare CR, bare LF or NUL gets `550 5.5.2`, the upstream transaction is
///   aborted (its connection closed without an end of data, so nothing is delivered) and the
///   session is closed, as Postfix does with `smtpd_forbid_bare_newline = reject`.
public enum BareNewlinePolicy: String, Hashable, Sendable, CaseIterable {
    case normalize
    case reject
}
