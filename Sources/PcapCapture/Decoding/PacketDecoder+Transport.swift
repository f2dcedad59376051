extension PacketDecoder {
    /// SeeAlso: RFC 9293 §3.1.
    static func transportLayer(_ raw: UnsafeRawBufferPointer, ip: IPLayer) -> Result<DecodedHeaders, IgnoredPacketReason> {
        let start = ip.transportOffset
        guard ip.declaredEnd - start >= 20 else { return .failure(.malformed) }
        guard ip.capturedEnd - start >= 20 else { return .failure(.truncated) }
        let headerLength = Int(raw[start + 12] >> 4) * 4
        guard headerLength >= 20, start + headerLength <= ip.declaredEnd else { return .failure(.malformed) }
        guard start + headerLength <= ip.capturedEnd else { return .failure(.truncated) }
        let payloadOffset = start + headerLength
        let captured = ip.capturedEnd - payloadOffset
        return .success(
            DecodedHeaders(
                source: ip.source,
                destination: ip.destination,
                sourcePort: raw.u16(at: start),
                destinationPort: raw.u16(at: start + 2),
                sequence: raw.u32(at: start + 4),
                acknowledgment: raw.u32(at: start + 8),
                flags: TCPFlags(rawValue: raw.u16(at: start + 12) & 0x01FF),
                window: raw.u16(at: start + 14),
                payloadOffset: payloadOffset,
                capturedPayload: captured,
                missingPayload: ip.declaredEnd - ip.capturedEnd
            ))
    }
}
