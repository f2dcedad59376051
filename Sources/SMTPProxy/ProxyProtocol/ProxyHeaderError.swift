/// Why bytes at the start of a connection are not an acceptable PROXY protocol header. Every case
/// closes the connection: a header that cannot be trusted must not let the bytes behind it
/// through.
public enum ProxyHeaderError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Neither `PROXY ` (v1) nor the v2 signature.
    case notAProxyHeader
    /// A v1 line with no CRLF within 107 bytes, or a v2 header longer than the configured bound.
    case tooLong(limit: Int)
    /// A v1 line that breaks the grammar (the detail says where).
    case malformedV1(String)
    /// A v2 version nibble other than 2.
    case unsupportedVersion(UInt8)
    /// A v2 command nibble other than LOCAL (0) and PROXY (1).
    case unsupportedCommand(UInt8)
    /// A v2 family/transport byte this proxy cannot relay (datagrams, unknown families).
    case unsupportedFamily(UInt8)
    /// A v2 length too short for the family's address block.
    case addressBlockTooShort(family: UInt8, length: Int)
    /// A v2 TLV that runs past the end of the header.
    case malformedTLV(offset: Int)
    /// The connection ended before the header did.
    case truncated(received: Int)

    public var description: String {
        switch self {
        case .notAProxyHeader: "not a PROXY protocol header"
        case .tooLong(let limit): "PROXY header longer than \(limit) bytes"
        case .malformedV1(let detail): "malformed PROXY v1 line: \(detail)"
        case .unsupportedVersion(let version): "PROXY v2 header with version \(version)"
        case .unsupportedCommand(let command): "PROXY v2 header with command \(command)"
        case .unsupportedFamily(let byte): "PROXY v2 family/transport 0x\(String(byte, radix: 16)) not supported"
        case .addressBlockTooShort(let family, let length):
            "PROXY v2 family 0x\(String(family, radix: 16)) needs more than \(length) address bytes"
        case .malformedTLV(let offset): "PROXY v2 TLV at byte \(offset) runs past the header"
        case .truncated(let received): "connection ended after \(received) bytes of a PROXY header"
        }
    }
}
