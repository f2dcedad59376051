import IPAddressing
import struct NIOCore.ByteBuffer

/// Decodes captured packets down to TCP segments.
///
///     switch PacketDecoder.decode(packet) {
///     case .segment(let segment): reassembler.process(segment, into: &events)
///     case .ignored(let reason): statistics[reason, default: 0] += 1
///     }
///
/// Link types: Ethernet (802.1Q/802.1ad/QinQ tags, MPLS, PPPoE session, 802.3 SNAP), Linux
/// cooked SLL and SLL2, raw IP (`DLT_RAW` 12/14, `LINKTYPE_RAW` 101, `IPV4` 228, `IPV6` 229),
/// BSD NULL and OpenBSD LOOP (address family in either byte order). Network: IPv4 (options
/// skipped; fragments ignored, only complete datagrams decoded; total length 0 from TSO taken as
/// "the rest of the packet") and IPv6 (hop-by-hop, routing, destination-options, AH and atomic
/// fragment headers skipped; real fragments ignored). Transport: TCP with options skipped.
/// Padding after the IP datagram (Ethernet minimum frame, FCS) is never payload. Checksums are
/// not verified: captures taken on the sending host carry offloaded, unfinished checksums.
public enum PacketDecoder {
    public enum Outcome: Sendable {
        case segment(TCPSegment)
        case ignored(IgnoredPacketReason)
    }

    /// Decodes one packet; never traps, whatever the bytes.
    public static func decode(_ packet: CapturedPacket) -> Outcome {
        let headers: Result<DecodedHeaders, IgnoredPacketReason> = packet.data.withUnsafeReadableBytes { raw in
            decodeHeaders(raw, linkType: packet.linkType, truncatedByCapture: packet.isTruncated)
        }
        switch headers {
        case .failure(let reason):
            return .ignored(reason)
        case .success(let decoded):
            let payload = packet.data.getSlice(at: packet.data.readerIndex + decoded.payloadOffset, length: decoded.capturedPayload)
                ?? ByteBuffer()
            return .segment(
                TCPSegment(
                    source: TCPEndpoint(address: decoded.source, port: decoded.sourcePort),
                    destination: TCPEndpoint(address: decoded.destination, port: decoded.destinationPort),
                    sequence: decoded.sequence,
                    acknowledgment: decoded.acknowledgment,
                    flags: decoded.flags,
                    window: decoded.window,
                    payload: payload,
                    missingPayloadBytes: decoded.missingPayload,
                    timestamp: packet.timestamp
                ))
        }
    }

    /// Everything read from the headers, before the payload is sliced out.
    struct DecodedHeaders {
        var source: IPAddress
        var destination: IPAddress
        var sourcePort: UInt16
        var destinationPort: UInt16
        var sequence: UInt32
        var acknowledgment: UInt32
        var flags: TCPFlags
        var window: UInt16
        var payloadOffset: Int
        var capturedPayload: Int
        var missingPayload: Int
    }

    static func decodeHeaders(
        _ raw: UnsafeRawBufferPointer, linkType: LinkType, truncatedByCapture: Bool
    ) -> Result<DecodedHeaders, IgnoredPacketReason> {
        let network: NetworkLayer
        switch linkLayer(raw, linkType: linkType) {
        case .success(let layer): network = layer
        case .failure(let reason): return .failure(reason)
        }
        let ip: IPLayer
        switch internetLayer(raw, at: network.offset, version: network.version, truncatedByCapture: truncatedByCapture) {
        case .success(let layer): ip = layer
        case .failure(let reason): return .failure(reason)
        }
        return transportLayer(raw, ip: ip)
    }
}
