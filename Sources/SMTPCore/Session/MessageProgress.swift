/// What the engine learns of a message while its content streams past.
struct MessageProgress: Sendable {
    var size = 0
    var headers = HeaderSniffer()
    /// Held, and it came in BDAT chunks: it is released as one `BDAT <size> LAST`.
    var chunked = false
}
