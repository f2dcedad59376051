import IPAddressing

extension PacketDecoder {
    /// The IP layer's addresses and the extent of its TCP payload.
    struct IPLayer {
        var source: IPAddress
        var destination: IPAddress
        /// Start of the TCP header.
        var transportOffset: Int
        /// End of the datagram as the IP header declares it (may exceed the captured bytes).
        var declaredEnd: Int
        /// End of the captured part of the datagram.
        var capturedEnd: Int
    }

    static func internetLayer(
        _ raw: UnsafeRawBufferPointer, at offset: Int, version announced: UInt8?, truncatedByCapture: Bool
    ) -> Result<IPLayer, IgnoredPacketReason> {
        guard raw.count > offset else { return .failure(.truncated) }
        let version = raw[offset] >> 4
        if let announced, announced != version { return .failure(.malformed) }
        switch version {
        case 4: return ipv4(raw, at: offset, truncatedByCapture: truncatedByCapture)
        case 6: return ipv6(raw, at: offset, truncatedByCapture: truncatedByCapture)
        default: return .failure(announced == nil ? .notIP : .malformed)
        }
    }

    /// SeeAlso: RFC 791 §3.1.
    static func ipv4(_ raw: UnsafeRawBufferPointer, at offset: Int, truncatedByCapture: Bool) -> Result<IPLayer, IgnoredPacketReason> {
        guard raw.count >= offset + 20 else { return .failure(.truncated) }
        let headerLength = Int(raw[offset] & 0x0F) * 4
        guard headerLength >= 20 else { return .failure(.malformed) }
        guard raw.count >= offset + headerLength else { return .failure(.truncated) }
        var totalLength = Int(raw.u16(at: offset + 2))
        if totalLength == 0 {
            // TCP segmentation offload on the capturing host leaves 0 here: the packet is the datagram.
            totalLength = raw.count - offset
        }
        guard totalLength >= headerLength else { return .failure(.malformed) }
        let fragment = raw.u16(at: offset + 6)
        if fragment & 0x2000 != 0 || fragment & 0x1FFF != 0 { return .failure(.ipFragment) }
        guard raw[offset + 9] == 6 else { return .failure(.notTCP) }
        let available = raw.count - offset
        let declaredEnd = truncatedByCapture ? offset + totalLength : offset + min(totalLength, available)
        return .success(
            IPLayer(
                source: IPAddress(ipv4: raw.u32(at: offset + 12)),
                destination: IPAddress(ipv4: raw.u32(at: offset + 16)),
                transportOffset: offset + headerLength,
                declaredEnd: declaredEnd,
                capturedEnd: min(declaredEnd, raw.count)
            ))
    }

    /// SeeAlso: RFC 8200 §3–4.
    static func ipv6(_ raw: UnsafeRawBufferPointer, at offset: Int, truncatedByCapture: Bool) -> Result<IPLayer, IgnoredPacketReason> {
        guard raw.count >= offset + 40 else { return .failure(.truncated) }
        var payloadLength = Int(raw.u16(at: offset + 4))
        if payloadLength == 0 {
            // A jumbogram or TSO: the rest of the packet.
            payloadLength = raw.count - offset - 40
        }
        let available = raw.count - offset
        let datagramEnd = truncatedByCapture ? offset + 40 + payloadLength : offset + min(40 + payloadLength, available)
        var next = raw[offset + 6]
        var cursor = offset + 40
        while true {
            switch next {
            case 6:
                guard cursor <= datagramEnd else { return .failure(.malformed) }
                return .success(
                    IPLayer(
                        source: IPAddress(ipv6High: raw.u64(at: offset + 8), low: raw.u64(at: offset + 16)),
                        destination: IPAddress(ipv6High: raw.u64(at: offset + 24), low: raw.u64(at: offset + 32)),
                        transportOffset: cursor,
                        declaredEnd: datagramEnd,
                        capturedEnd: min(datagramEnd, raw.count)
                    ))
            case 0, 43, 60, 135, 139, 140:
                // Hop-by-hop, routing, destination options, mobility, HIP, shim6: (length + 1) × 8.
                guard raw.count >= cursor + 2 else { return .failure(.truncated) }
                next = raw[cursor]
                cursor += (Int(raw[cursor + 1]) + 1) * 8
            case 44:
                guard raw.count >= cursor + 8 else { return .failure(.truncated) }
                let field = raw.u16(at: cursor + 2)
                // Only an atomic fragment (offset 0, no more fragments) is a whole datagram.
                if field & 0xFFF8 != 0 || field & 0x0001 != 0 { return .failure(.ipFragment) }
                next = raw[cursor]
                cursor += 8
            case 51:
                // Authentication header: (length + 2) × 4.
                guard raw.count >= cursor + 2 else { return .failure(.truncated) }
                next = raw[cursor]
                cursor += (Int(raw[cursor + 1]) + 2) * 4
            default:
                return .failure(.notTCP)
            }
            guard cursor <= datagramEnd else { return .failure(.malformed) }
        }
    }
}
