/// What the engine learns of a message while its content streams past.
struct MessageProgress: Sendable {
    var size = 0
    var headers = HeaderSniffer()
    /// The proxy stopped forwarding it (too large): the upstream never gets an end of data.
    var aborted = false
    /// The content went to the driver (`holdContent`), not upstream.
    var held = false
    /// Held, and it came in BDAT chunks: it is released as one `BDAT <size> LAST`.
    var chunked = false
}
