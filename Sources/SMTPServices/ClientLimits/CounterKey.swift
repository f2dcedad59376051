import IPAddressing
import SMTPCore
import SMTPFilters

/// What the counter store counts per, in 17 bytes: a 128-bit value and its kind.
///
/// - `address`: the client's IPv6 address, IPv4 as IPv4-mapped (`::ffff:192.0.2.7`), so a
///   dual-stack listener's two spellings of one client are one key;
/// - `network`: the same, masked to /24 (IPv4) or /64 (IPv6);
/// - `user`: a 128-bit hash of the AUTH identity (two 64-bit FNV-1a with different offsets);
/// - `userAddress`: the address, for a `key: user` rule in a session whose identity is unknown
///   (kept apart from `address`, whose rules have their own columns).
///
/// A host name that is not an address (only when the driver knows nothing better) is hashed
/// like a user name under `address`.
struct CounterKey: Hashable, Sendable {
    enum Kind: UInt8, Sendable {
        case address, network, user, userAddress
    }

    var high: UInt64
    var low: UInt64
    var kind: Kind

    /// The key's hash: every bit depends on every input bit (SplitMix64's finaliser over both
    /// halves), so its top bits choose a shard and its low bits a bucket.
    var hash: UInt64 {
        var value = high &* 0x9E37_79B9_7F4A_7C15 ^ low ^ UInt64(kind.rawValue) &<< 56
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    /// The address and network keys of a client (`Endpoint.host`).
    static func client(_ host: String) -> (address: CounterKey, network: CounterKey) {
        if let v4 = dottedQuad(host) {
            let low = 0xFFFF_0000_0000 | UInt64(v4)
            return (CounterKey(high: 0, low: low, kind: .address), CounterKey(high: 0, low: low & ~0xFF, kind: .network))
        }
        guard let ip = IPAddress(host) else {
            let hashed = hashed(host, kind: .address)
            return (hashed, CounterKey(high: hashed.high, low: hashed.low, kind: .network))
        }
        let bytes = ip.isIPv4 ? [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + ip.bytes : ip.bytes
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 {
            high = high << 8 | UInt64(bytes[index])
            low = low << 8 | UInt64(bytes[index + 8])
        }
        let isIPv4 = high == 0 && low >> 32 == 0xFFFF
        let network = CounterKey(high: high, low: isIPv4 ? low & ~0xFF : 0, kind: .network)
        return (CounterKey(high: high, low: low, kind: .address), network)
    }

    /// `192.0.2.7` as a 32-bit number, without allocating (the common case on every event);
    /// nil for anything else (IPv6, or leading zeros, which `IPAddress` refuses too).
    private static func dottedQuad(_ host: String) -> UInt32? {
        var value: UInt32 = 0
        var part: UInt32 = 0
        var digits = 0
        var parts = 0
        var leadingZero = false
        for byte in host.utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return nil }
                value = value << 8 | part
                (part, digits, parts, leadingZero) = (0, 0, parts + 1, false)
            } else if byte >= 0x30, byte <= 0x39 {
                if digits == 1, leadingZero { return nil }
                if digits == 0 { leadingZero = byte == 0x30 }
                part = part * 10 + UInt32(byte - 0x30)
                digits += 1
                guard digits <= 3, part <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, parts == 3 else { return nil }
        return value << 8 | part
    }

    /// The key of an AUTH identity (compared exactly: `Bob` and `bob` are two users, as SASL
    /// back ends usually see them).
    static func user(_ name: String) -> CounterKey {
        hashed(name, kind: .user)
    }

    /// `address` re-kinded for a `key: user` rule in a session without a known identity.
    var asUserFallback: CounterKey {
        CounterKey(high: high, low: low, kind: .userAddress)
    }

    private static func hashed(_ text: String, kind: Kind) -> CounterKey {
        var first: UInt64 = 0xCBF2_9CE4_8422_2325
        var second: UInt64 = 0x8422_2325_CBF2_9CE4
        for byte in text.utf8 {
            first = (first ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            second = (second ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 &+ 0x9E37
        }
        return CounterKey(high: first, low: second, kind: kind)
    }
}
