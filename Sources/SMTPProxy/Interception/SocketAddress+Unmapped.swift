import NIOCore

extension SocketAddress {
    /// An IPv4 address an IPv6 socket shows as `::ffff:a.b.c.d`, as the IPv4 address it is
    /// (same port); any other address unchanged. An IPv4 client of a `[::]` listener is then
    /// forwarded, audited and (with `--upstream-source client`) bound as IPv4.
    var unmapped: SocketAddress {
        guard case .v6 = self, let plain = LoopGuard.plain(ipAddress), plain != ipAddress, let port,
            let address = try? SocketAddress(ipAddress: plain, port: port)
        else { return self }
        return address
    }
}
