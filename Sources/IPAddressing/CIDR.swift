/// A block of addresses: an address and a prefix length. Rule files' `client:` and the proxy's
/// `--proxy-protocol-from` both use it.
///
///     203.0.113.0/24     IPv4
///     2001:db8::/32      IPv6
///     192.0.2.7          one address (= /32, or /128 for IPv6)
///
/// An IPv4 block also contains the IPv4-mapped IPv6 form of its addresses (`::ffff:203.0.113.9`,
/// as a dual-stack listener reports IPv4 clients), and an IPv6 block that covers `::ffff:0:0/96`
/// contains the IPv4 addresses it maps.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    /// The first address of the block (host bits are zero).
    public let network: IPAddress
    public let prefixLength: Int

    /// Parses `address[/length]`. Host bits must be zero: `203.0.113.5/24` is refused with a
    /// suggestion (`203.0.113.0/24`), as it is usually a typo for one address or for the network.
    /// The error is one line naming the value.
    public init(parsing text: String) throws(CIDRError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else {
            throw CIDRError("'\(text)' is not an IP address or CIDR block (e.g. 203.0.113.0/24, 2001:db8::/32)")
        }
        let maxLength = address.isIPv4 ? 32 : 128
        var length = maxLength
        if parts.count == 2 {
            guard let value = Int(parts[1]), parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                (0...maxLength).contains(value)
            else {
                throw CIDRError("'\(text)' has an invalid prefix length (0…\(maxLength) for IPv\(address.isIPv4 ? 4 : 6))")
            }
            length = value
        }
        let network = address.masked(to: length)
        guard network == address else {
            throw CIDRError("'\(text)' has host bits set (did you mean \(network)/\(length) or \(address)?)")
        }
        self.network = network
        self.prefixLength = length
    }

    public init(network: IPAddress, prefixLength: Int) {
        precondition((0...(network.isIPv4 ? 32 : 128)).contains(prefixLength))
        self.network = network.masked(to: prefixLength)
        self.prefixLength = prefixLength
    }

    public func contains(_ address: IPAddress) -> Bool {
        if address.family == network.family {
            return address.masked(to: prefixLength) == network
        }
        if network.isIPv4, let unmapped = address.unmappedIPv4 {
            return contains(unmapped)
        }
        if let mapped = address.ipv4Mapped {
            return contains(mapped)
        }
        return false
    }

    public var description: String { "\(network)/\(prefixLength)" }
}
