import IPAddressing
import NIOCore

/// Writes the PROXY header a server behind this proxy reads first (`--proxy-protocol-out`).
///
///     ProxyHeaderEncoder.encode(.v1, source: client, destination: listener)
///     // PROXY TCP4 192.0.2.7 198.51.100.1 51234 25\r\n
///
/// The header always carries the PROXY command (never LOCAL: the connection is relayed for a
/// client). Address families, mapped so that the client's address survives whenever it can:
/// - both IPv4, or both IPv6: as they are (`TCP4`/`AF_INET`, `TCP6`/`AF_INET6`);
/// - one IPv4 and one IPv4-mapped IPv6 (`::ffff:a.b.c.d`, as a dual-stack socket reports IPv4
///   peers): the mapped one is unmapped and both go as IPv4;
/// - one IPv4 and one real IPv6: the IPv4 one is mapped (`::ffff:a.b.c.d`) and both go as IPv6,
///   since v1 and v2 both require one family for the pair;
/// - an address missing or not IP (a Unix socket): v1 `PROXY UNKNOWN\r\n`, v2 PROXY with
///   `AF_UNSPEC` and no address block; the server then uses the proxy's own connection addresses.
public enum ProxyHeaderEncoder {
    public static func encode(
        _ version: ProxyProtocolVersion, source: SocketAddress?, destination: SocketAddress?,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) -> ByteBuffer {
        let pair = source.flatMap { source in destination.flatMap { consistentPair(source, $0) } }
        var buffer = allocator.buffer(capacity: version == .v1 ? ProxyHeaderParser.maximumV1Length : 52)
        switch version {
        case .v1: writeV1(pair, into: &buffer)
        case .v2: writeV2(pair, into: &buffer)
        }
        return buffer
    }

    /// The two addresses in one family, or nil when either is not an IP address.
    static func consistentPair(_ source: SocketAddress, _ destination: SocketAddress) -> (SocketAddress, SocketAddress)? {
        switch (source, destination) {
        case (.v4, .v4), (.v6, .v6): return (source, destination)
        case (.v4, .v6):
            if case .v6 = destination.unmapped { return source.mapped.map { ($0, destination) } }
            return (source, destination.unmapped)
        case (.v6, .v4):
            if case .v6 = source.unmapped { return destination.mapped.map { (source, $0) } }
            return (source.unmapped, destination)
        default: return nil
        }
    }

    private static func writeV1(_ pair: (SocketAddress, SocketAddress)?, into buffer: inout ByteBuffer) {
        guard let (source, destination) = pair, let sourceText = source.ipAddress, let destinationText = destination.ipAddress,
            let sourcePort = source.port, let destinationPort = destination.port
        else {
            buffer.writeString("PROXY UNKNOWN\r\n")
            return
        }
        let family = if case .v4 = source { "TCP4" } else { "TCP6" }
        buffer.writeString("PROXY \(family) \(sourceText) \(destinationText) \(sourcePort) \(destinationPort)\r\n")
    }

    private static func writeV2(_ pair: (SocketAddress, SocketAddress)?, into buffer: inout ByteBuffer) {
        buffer.writeBytes(ProxyHeaderParser.signature)
        buffer.writeInteger(UInt8(0x21))  // version 2, command PROXY
        guard let (source, destination) = pair, let sourcePort = source.port, let destinationPort = destination.port else {
            buffer.writeInteger(UInt8(0x00))  // AF_UNSPEC, UNSPEC
            buffer.writeInteger(UInt16(0))
            return
        }
        let isIPv4 = if case .v4 = source { true } else { false }
        buffer.writeInteger(UInt8(isIPv4 ? 0x11 : 0x21))  // AF_INET/AF_INET6, STREAM
        buffer.writeInteger(UInt16(isIPv4 ? 12 : 36))
        writePacked(source, into: &buffer)
        writePacked(destination, into: &buffer)
        buffer.writeInteger(UInt16(sourcePort))
        buffer.writeInteger(UInt16(destinationPort))
    }

    /// The address in network byte order (4 or 16 bytes).
    private static func writePacked(_ address: SocketAddress, into buffer: inout ByteBuffer) {
        if let ip = IPAddress(address) { buffer.writeBytes(ip.bytes) }
    }
}
