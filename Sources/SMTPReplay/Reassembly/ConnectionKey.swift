import PcapCapture

/// The 4-tuple of a connection with its two endpoints in a fixed order, so that both directions
/// find the same entry.
struct ConnectionKey: Hashable, Sendable {
    let lower: TCPEndpoint
    let upper: TCPEndpoint

    init(_ a: TCPEndpoint, _ b: TCPEndpoint) {
        if a < b {
            lower = a
            upper = b
        } else {
            lower = b
            upper = a
        }
    }
}
