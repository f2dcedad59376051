import NIOCore

/// PROXY v2 (spec §2.2): signature, version/command, family/transport, big-endian length, then
/// the address block and TLVs. Version must be 2; commands LOCAL (addresses ignored) and PROXY;
/// families AF_INET and AF_INET6 over STREAM give addresses, AF_UNSPEC and AF_UNIX give none (the
/// socket's own are kept); datagrams are refused (this is a TCP proxy). TLVs are skipped, but their
/// framing must fit the header exactly: a TLV running past the end is an error.
extension ProxyHeaderParser {
    static func scanV2(_ bytes: UnsafeRawBufferPointer, maximumLength: Int) -> Scan {
        for index in 0..<min(bytes.count, signature.count) where bytes[index] != signature[index] {
            return .invalid(.notAProxyHeader)
        }
        guard bytes.count >= v2FixedLength else { return .incomplete }
        let versionCommand = bytes[12]
        guard versionCommand >> 4 == 2 else { return .invalid(.unsupportedVersion(versionCommand >> 4)) }
        let command = versionCommand & 0x0F
        guard command <= 1 else { return .invalid(.unsupportedCommand(command)) }
        let familyByte = bytes[13]
        let total = v2FixedLength + (Int(bytes[14]) << 8 | Int(bytes[15]))
        guard total <= maximumLength else { return .invalid(.tooLong(limit: maximumLength)) }
        guard bytes.count >= total else { return .incomplete }
        if command == 0 {
            return .complete(ProxyHeader(version: .v2, command: .local), length: total)
        }
        let body = UnsafeRawBufferPointer(rebasing: bytes[v2FixedLength..<total])
        switch parseV2Addresses(body, familyByte: familyByte) {
        case .failure(let error): return .invalid(error)
        case .success(let header): return .complete(header, length: total)
        }
    }

    /// The address block and TLVs of a PROXY command.
    private static func parseV2Addresses(_ body: UnsafeRawBufferPointer, familyByte: UInt8) -> Result<ProxyHeader, ProxyHeaderError> {
        let family = familyByte >> 4
        let transport = familyByte & 0x0F
        // AF_UNSPEC: "the receiver should ignore address information" — whatever its length.
        if family == 0 { return .success(ProxyHeader(version: .v2, command: .proxy)) }
        guard transport <= 1 else { return .failure(.unsupportedFamily(familyByte)) }
        let addressLength: Int
        switch family {
        case 1: addressLength = 12
        case 2: addressLength = 36
        case 3: addressLength = 216
        default: return .failure(.unsupportedFamily(familyByte))
        }
        guard body.count >= addressLength else { return .failure(.addressBlockTooShort(family: family, length: body.count)) }
        if let offset = firstBadTLV(UnsafeRawBufferPointer(rebasing: body[addressLength...])) {
            return .failure(.malformedTLV(offset: v2FixedLength + addressLength + offset))
        }
        guard family != 3 else { return .success(ProxyHeader(version: .v2, command: .proxy)) }
        let width = (addressLength - 4) / 2
        let portsAt = 2 * width
        let sourcePort = Int(body[portsAt]) << 8 | Int(body[portsAt + 1])
        let destinationPort = Int(body[portsAt + 2]) << 8 | Int(body[portsAt + 3])
        guard let source = packedAddress(body, 0..<width, port: sourcePort),
            let destination = packedAddress(body, width..<portsAt, port: destinationPort)
        else { return .failure(.unsupportedFamily(familyByte)) }
        return .success(ProxyHeader(version: .v2, source: source, destination: destination))
    }

    private static func packedAddress(_ body: UnsafeRawBufferPointer, _ range: Range<Int>, port: Int) -> SocketAddress? {
        var packed = ByteBuffer()
        packed.writeBytes(UnsafeRawBufferPointer(rebasing: body[range]))
        return try? SocketAddress(packedIPAddress: packed, port: port)
    }

    /// The offset of the first TLV that does not fit, or nil when they tile the area exactly.
    private static func firstBadTLV(_ area: UnsafeRawBufferPointer) -> Int? {
        var offset = 0
        while offset < area.count {
            guard offset + 3 <= area.count else { return offset }
            let length = Int(area[offset + 1]) << 8 | Int(area[offset + 2])
            guard offset + 3 + length <= area.count else { return offset }
            offset += 3 + length
        }
        return nil
    }
}
