extension PacketDecoder {
    /// Where the IP header starts and which version the link layer announced (nil: read the
    /// version nibble).
    struct NetworkLayer {
        var offset: Int
        var version: UInt8?
    }

    static func linkLayer(_ raw: UnsafeRawBufferPointer, linkType: LinkType) -> Result<NetworkLayer, IgnoredPacketReason> {
        switch linkType {
        case .ethernet:
            guard raw.count >= 14 else { return .failure(.truncated) }
            return etherType(raw.u16(at: 12), raw, at: 14)
        case .linuxSLL:
            guard raw.count >= 16 else { return .failure(.truncated) }
            return etherType(raw.u16(at: 14), raw, at: 16)
        case .linuxSLL2:
            guard raw.count >= 20 else { return .failure(.truncated) }
            return etherType(raw.u16(at: 0), raw, at: 20)
        case .raw, .rawOpenBSD, .linktypeRaw:
            return .success(NetworkLayer(offset: 0, version: nil))
        case .ipv4:
            return .success(NetworkLayer(offset: 0, version: 4))
        case .ipv6:
            return .success(NetworkLayer(offset: 0, version: 6))
        case .null, .loop:
            guard raw.count >= 4 else { return .failure(.truncated) }
            // The address family in the capturing host's byte order (NULL) or network order
            // (LOOP); either way the value is small, so the order that gives a small number wins.
            let littleEndian = UInt32(raw[0]) | UInt32(raw[1]) << 8 | UInt32(raw[2]) << 16 | UInt32(raw[3]) << 24
            let family = littleEndian > 0xFFFF ? littleEndian.byteSwapped : littleEndian
            switch family {
            case 2: return .success(NetworkLayer(offset: 4, version: 4))
            // AF_INET6: 24 (NetBSD, OpenBSD), 28 (FreeBSD, DragonFly), 30 (macOS, iOS), 10 (Linux), 23 (Windows).
            case 24, 28, 30, 10, 23: return .success(NetworkLayer(offset: 4, version: 6))
            default: return .failure(.notIP)
            }
        default:
            return .failure(.unsupportedLinkType)
        }
    }

    /// Follows VLAN tags, MPLS labels, PPPoE and SNAP from an EtherType to the IP header.
    static func etherType(_ first: UInt16, _ raw: UnsafeRawBufferPointer, at start: Int) -> Result<NetworkLayer, IgnoredPacketReason> {
        var type = first
        var offset = start
        // Bounded: every step consumes at least 4 bytes of a finite packet.
        while true {
            switch type {
            case 0x0800:
                return .success(NetworkLayer(offset: offset, version: 4))
            case 0x86DD:
                return .success(NetworkLayer(offset: offset, version: 6))
            case 0x8100, 0x88A8, 0x9100, 0x9200:
                // 802.1Q / 802.1ad / legacy QinQ: TCI then the inner EtherType.
                guard raw.count >= offset + 4 else { return .failure(.truncated) }
                type = raw.u16(at: offset + 2)
                offset += 4
            case 0x8847, 0x8848:
                // MPLS: labels until the bottom of stack, then IP by its version nibble.
                while true {
                    guard raw.count >= offset + 4 else { return .failure(.truncated) }
                    let bottom = raw[offset + 2] & 0x01 != 0
                    offset += 4
                    if bottom { break }
                }
                return .success(NetworkLayer(offset: offset, version: nil))
            case 0x8864:
                // PPPoE session: 6-byte header, then the PPP protocol.
                guard raw.count >= offset + 8 else { return .failure(.truncated) }
                switch raw.u16(at: offset + 6) {
                case 0x0021: return .success(NetworkLayer(offset: offset + 8, version: 4))
                case 0x0057: return .success(NetworkLayer(offset: offset + 8, version: 6))
                default: return .failure(.notIP)
                }
            case ...1500:
                // An 802.3 length: only LLC/SNAP carries an EtherType.
                guard raw.count >= offset + 8, raw[offset] == 0xAA, raw[offset + 1] == 0xAA, raw[offset + 2] == 0x03 else {
                    return .failure(.notIP)
                }
                type = raw.u16(at: offset + 6)
                offset += 8
            default:
                return .failure(.notIP)
            }
        }
    }
}
