/// Hand-built packets, header by header, for decoder tests. Every length field is computed from
/// the bytes actually given, unless a test overrides it to build a broken packet.
enum PacketBytes {
    static func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    static func be32(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    static func le32(_ value: UInt32) -> [UInt8] { be32(value).reversed() }

    /// A TCP header (checksum left 0: the decoder does not check it) and payload.
    static func tcp(
        sourcePort: UInt16 = 40_000, destinationPort: UInt16 = 25, sequence: UInt32 = 1000, acknowledgment: UInt32 = 2000,
        flags: UInt16 = 0x018, window: UInt16 = 512, options: [UInt8] = [], payload: [UInt8] = []
    ) -> [UInt8] {
        precondition(options.count % 4 == 0)
        let offsetWords = UInt16(5 + options.count / 4)
        return be16(sourcePort) + be16(destinationPort) + be32(sequence) + be32(acknowledgment)
            + be16(offsetWords << 12 | flags) + be16(window) + [0, 0, 0, 0] + options + payload
    }

    /// An IPv4 header (with `options`, a multiple of 4 bytes) around `payload`.
    static func ipv4(
        source: [UInt8] = [192, 0, 2, 10], destination: [UInt8] = [198, 51, 100, 25], protocol number: UInt8 = 6,
        fragment: UInt16 = 0x4000, options: [UInt8] = [], totalLength: UInt16? = nil, payload: [UInt8]
    ) -> [UInt8] {
        precondition(options.count % 4 == 0)
        let headerLength = 20 + options.count
        let length = totalLength ?? UInt16(headerLength + payload.count)
        return [0x40 | UInt8(headerLength / 4), 0] + be16(length) + be16(0x1234) + be16(fragment) + [64, number, 0, 0]
            + source + destination + options + payload
    }

    static let v6Source: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [0x0a]
    static let v6Destination: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [0x19]

    /// An IPv6 header; `payload` starts with any extension headers.
    static func ipv6(
        source: [UInt8] = v6Source, destination: [UInt8] = v6Destination, nextHeader: UInt8 = 6, payloadLength: UInt16? = nil,
        payload: [UInt8]
    ) -> [UInt8] {
        [0x60, 0, 0, 0] + be16(payloadLength ?? UInt16(payload.count)) + [nextHeader, 64] + source + destination + payload
    }

    /// An IPv6 extension header of the (length + 1) × 8 kind (hop-by-hop, routing, destination options).
    static func ipv6Extension(next: UInt8, body: [UInt8] = [0, 0, 0, 0, 0, 0]) -> [UInt8] {
        precondition((body.count + 2) % 8 == 0)
        return [next, UInt8((body.count + 2) / 8 - 1)] + body
    }

    static func ipv6Fragment(next: UInt8, offset: UInt16 = 0, more: Bool = false) -> [UInt8] {
        [next, 0] + be16(offset << 3 | (more ? 1 : 0)) + be32(0xCAFE)
    }

    /// Ethernet II with optional VLAN tags (`(tpid, tci)` pairs, outermost first).
    static func ethernet(type: UInt16, tags: [(UInt16, UInt16)] = [], payload: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1]
        for (tpid, tci) in tags { frame += be16(tpid) + be16(tci) }
        return frame + be16(type) + payload
    }

    /// Linux cooked capture v1: packet type, ARPHRD, address length, 8 address bytes, protocol.
    static func sll(protocol type: UInt16, payload: [UInt8]) -> [UInt8] {
        be16(0) + be16(1) + be16(6) + [2, 0, 0, 0, 0, 1, 0, 0] + be16(type) + payload
    }

    /// Linux cooked capture v2: protocol, reserved, interface index, ARPHRD, packet type, address length, 8 address bytes.
    static func sll2(protocol type: UInt16, payload: [UInt8]) -> [UInt8] {
        be16(type) + be16(0) + be32(2) + be16(1) + [0, 6] + [2, 0, 0, 0, 0, 1, 0, 0] + payload
    }
}
