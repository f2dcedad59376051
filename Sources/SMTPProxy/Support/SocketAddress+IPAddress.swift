import IPAddressing
import NIOCore
import SMTPCore

extension IPAddress {
    /// The address of an IPv4 or IPv6 socket address, read from its `sockaddr` bytes (`sin_addr`
    /// sits at offset 4 of a `sockaddr_in`, `sin6_addr` at offset 8 of a `sockaddr_in6`, on Linux
    /// and on the BSDs alike); nil for a Unix socket.
    public init?(_ address: SocketAddress) {
        let offset: Int
        let count: Int
        switch address {
        case .v4: (offset, count) = (4, 4)
        case .v6: (offset, count) = (8, 16)
        case .unixDomainSocket: return nil
        }
        let read: IPAddress? = address.withSockAddr { pointer, size in
            guard size >= offset + count else { return nil }
            return IPAddress(bytes: UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer) + offset, count: count))
        }
        guard let read else { return nil }
        self = read
    }
}

extension SocketAddress {
    /// `address` and `port` as a socket address, from the address's bytes.
    init?(_ address: IPAddress, port: Int) {
        var packed = ByteBuffer()
        packed.writeBytes(address.bytes)
        guard let made = try? SocketAddress(packedIPAddress: packed, port: port) else { return nil }
        self = made
    }

    /// An IPv4 address an IPv6 socket shows as `::ffff:a.b.c.d`, as the IPv4 address it is (same
    /// port); any other address unchanged. An IPv4 client of a `[::]` listener is then forwarded,
    /// audited and (with `--upstream-source client`) bound as IPv4.
    var unmapped: SocketAddress {
        guard case .v6 = self, let port, let plain = IPAddress(self)?.unmappedIPv4, let address = SocketAddress(plain, port: port)
        else { return self }
        return address
    }

    /// `::ffff:a.b.c.d` for an IPv4 `a.b.c.d` (same port); nil for any other address.
    var mapped: SocketAddress? {
        guard case .v4 = self, let port, let mapped = IPAddress(self)?.ipv4Mapped else { return nil }
        return SocketAddress(mapped, port: port)
    }
}

extension CIDR {
    /// Whether a peer's address is in the block (`--proxy-protocol-from`); a Unix-socket peer
    /// never is.
    public func contains(_ address: SocketAddress) -> Bool {
        IPAddress(address).map(contains) ?? false
    }
}

extension Endpoint {
    /// A socket's address as the engine and the audit log see it, from its bytes (`unknown:0`
    /// for none or a Unix socket).
    public init(_ address: SocketAddress?) {
        if let address, let ip = IPAddress(address), let port = address.port {
            self.init(address: ip, port: port)
        } else {
            self.init(host: "unknown", port: address?.port ?? 0)
        }
    }
}
