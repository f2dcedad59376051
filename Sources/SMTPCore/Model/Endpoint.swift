/// One end of a TCP connection as the audit log shows it: `192.0.2.1:25` or `[2001:db8::1]:25`.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    /// A numeric IPv4 or IPv6 address (or a host name when nothing better is known).
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
