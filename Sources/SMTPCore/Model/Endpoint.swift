import IPAddressing

/// One end of a TCP connection as the audit log shows it: `192.0.2.1:25` or `[2001:db8::1]:25`.
///
///     Endpoint(address: IPAddress(ipv4: 0xC000_0201), port: 25)   // from a socket's or a packet's bytes
///     Endpoint(host: "2001:db8::1", port: 25)                      // from text: read once, here
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    /// A numeric IPv4 or IPv6 address (or a host name when nothing better is known).
    public let host: String
    /// `host` as an address (rules' `client:` match it); nil when `host` is not numeric.
    public let address: IPAddress?
    public var port: Int

    /// From text; a numeric host is read into `address` here (a scoped IPv6 address loses its zone).
    public init(host: String, port: Int) {
        self.host = host
        self.address = IPAddress(host: host)
        self.port = port
    }

    /// From an address's bytes: `host` is its canonical text.
    public init(address: IPAddress, port: Int) {
        self.host = address.description
        self.address = address
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
