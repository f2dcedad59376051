/// The two versions of HAProxy's PROXY protocol
/// (https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt).
public enum ProxyProtocolVersion: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The human-readable line: `PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\r\n`.
    case v1
    /// The binary header: a 12-byte signature, version/command, family/transport, length,
    /// addresses and optional TLVs.
    case v2

    public var description: String { rawValue }
}
