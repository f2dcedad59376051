/// A PROXY header names the client and the address it connected to; a header without addresses
/// (v1 `UNKNOWN`, v2 `LOCAL`, `AF_UNSPEC`, `AF_UNIX`) keeps the socket's own.
extension SessionOrigin {
    mutating func apply(_ header: ProxyHeader) {
        guard header.command == .proxy, let source = header.source, let destination = header.destination else { return }
        client = source
        self.destination = destination
    }
}
