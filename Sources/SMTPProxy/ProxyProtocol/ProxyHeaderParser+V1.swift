import NIOCore

/// PROXY v1 (spec §2.1): `PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n` or `PROXY UNKNOWN…\r\n`, fields
/// separated by exactly one space, at most 107 bytes. Strict: addresses must be numeric and of
/// the announced family (no zone, no host names, no leading zeros in IPv4), ports decimal 0…65535
/// without leading zeros, printable US-ASCII only, and the line ends with CRLF (a bare LF or CR is
/// an error). After `UNKNOWN` the rest of the line is ignored, as the spec requires.
extension ProxyHeaderParser {
    private static let prefix = Array("PROXY ".utf8)

    static func scanV1(_ bytes: UnsafeRawBufferPointer) -> Scan {
        for index in 0..<min(bytes.count, prefix.count) where bytes[index] != prefix[index] {
            return .invalid(.notAProxyHeader)
        }
        var lineEnd: Int?
        for index in 0..<min(bytes.count, maximumV1Length) {
            let byte = bytes[index]
            if byte == 0x0D {
                guard index + 1 < maximumV1Length else { return .invalid(.tooLong(limit: maximumV1Length)) }
                guard index + 1 < bytes.count else { break }
                guard bytes[index + 1] == 0x0A else { return .invalid(.malformedV1("CR not followed by LF")) }
                lineEnd = index
                break
            }
            guard byte >= 0x20, byte < 0x7F else {
                return .invalid(.malformedV1(byte == 0x0A ? "bare LF" : "byte 0x\(String(byte, radix: 16)) at \(index)"))
            }
        }
        guard let lineEnd else {
            return bytes.count >= maximumV1Length ? .invalid(.tooLong(limit: maximumV1Length)) : .incomplete
        }
        let line = UnsafeRawBufferPointer(rebasing: bytes[prefix.count..<lineEnd])
        switch parseV1Fields(line) {
        case .success(let header): return .complete(header, length: lineEnd + 2)
        case .failure(let error): return .invalid(error)
        }
    }

    /// The part after `PROXY `, without CRLF.
    private static func parseV1Fields(_ line: UnsafeRawBufferPointer) -> Result<ProxyHeader, ProxyHeaderError> {
        let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard let protocolField = fields.first else { return .failure(.malformedV1("no protocol")) }
        let family = String(decoding: protocolField, as: UTF8.self)
        if family == "UNKNOWN" {
            return .success(ProxyHeader(version: .v1, command: .proxy))
        }
        guard family == "TCP4" || family == "TCP6" else {
            return .failure(.malformedV1("protocol '\(family.prefix(16))' is not TCP4, TCP6 or UNKNOWN"))
        }
        guard fields.count == 5 else { return .failure(.malformedV1("expected 5 fields after PROXY, got \(fields.count)")) }
        guard let sourcePort = port(fields[3]), let destinationPort = port(fields[4]) else {
            return .failure(.malformedV1("ports must be decimal 0…65535 without leading zeros"))
        }
        let wantsIPv4 = family == "TCP4"
        guard let source = address(fields[1], port: sourcePort, ipv4: wantsIPv4),
            let destination = address(fields[2], port: destinationPort, ipv4: wantsIPv4)
        else {
            return .failure(.malformedV1("addresses must be numeric \(wantsIPv4 ? "IPv4" : "IPv6") for \(family)"))
        }
        return .success(ProxyHeader(version: .v1, source: source, destination: destination))
    }

    private static func port(_ field: Slice<UnsafeRawBufferPointer>) -> Int? {
        guard (1...5).contains(field.count), field.count == 1 || field.first != UInt8(ascii: "0") else { return nil }
        var value = 0
        for byte in field {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value <= 65535 ? value : nil
    }

    /// A numeric address of the wanted family (inet_pton: no zone ids, no names, no octal IPv4).
    private static func address(_ field: Slice<UnsafeRawBufferPointer>, port: Int, ipv4: Bool) -> SocketAddress? {
        // 15: 255.255.255.255; 45: ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255.
        guard !field.isEmpty, field.count <= (ipv4 ? 15 : 45) else { return nil }
        // Digits and dots (IPv4), plus hex digits and colons (IPv6): no zone id (`%eth0`), which
        // NIO would accept, and nothing else inet_pton might be lenient about.
        let allowed = field.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."): true
            case UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"), UInt8(ascii: ":"): !ipv4
            default: false
            }
        }
        guard allowed else { return nil }
        guard let address = try? SocketAddress(ipAddress: String(decoding: field, as: UTF8.self), port: port) else { return nil }
        switch address {
        case .v4: return ipv4 ? address : nil
        case .v6: return ipv4 ? nil : address
        case .unixDomainSocket: return nil
        }
    }
}
