import NIOCore
import SMTPProxy
import Testing

/// Building blocks of the PROXY protocol unit tests: addresses, v2 headers built by hand (so the
/// tests do not trust the encoder they also test), and feeding a parser in given pieces.
enum ProxyHeaderFixtures {
    static func address(_ ip: String, _ port: Int) throws -> SocketAddress {
        try SocketAddress(ipAddress: ip, port: port)
    }

    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    /// A v2 header: signature, `versionCommand`, `family`, then `body` with its length.
    static func v2(versionCommand: UInt8 = 0x21, family: UInt8, body: [UInt8]) -> [UInt8] {
        v2Signature + [versionCommand, family, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
    }

    /// 192.0.2.7:51234 → 198.51.100.1:25 as an AF_INET address block.
    static let inetBlock: [UInt8] = [192, 0, 2, 7, 198, 51, 100, 1, 0xC8, 0x22, 0x00, 0x19]

    /// TLVs as HAProxy sends them: ALPN "smtp", authority "mx.example.org", a NOOP of 3 bytes.
    static let tlvs: [UInt8] = [0x01, 0x00, 0x04] + Array("smtp".utf8) + [0x02, 0x00, 0x0E] + Array("mx.example.org".utf8)
        + [0x04, 0x00, 0x03, 0, 0, 0]

    /// What feeding `bytes` in pieces that end at `cuts` gives: the header and every byte after it
    /// (the completing read's remainder plus later reads, as the decoder passes them on), nil when
    /// the header never completed.
    static func feed(_ bytes: [UInt8], cuts: [Int], parser: ProxyHeaderParser = ProxyHeaderParser()) throws -> (ProxyHeader, [UInt8])? {
        var parser = parser
        var header: ProxyHeader?
        var after: [UInt8] = []
        var start = 0
        for end in cuts.sorted() + [bytes.count] where end >= start {
            let piece = ByteBuffer(bytes: bytes[start..<end])
            start = end
            if header != nil {
                after += piece.readableBytesView
                continue
            }
            if case .complete(let found, let remainder) = try parser.feed(piece) {
                header = found
                after += remainder.readableBytesView
            }
        }
        return header.map { ($0, after) }
    }

    /// The error `bytes` (fed whole) are refused with, or nil.
    static func error(_ bytes: [UInt8], parser: ProxyHeaderParser = ProxyHeaderParser()) -> ProxyHeaderError? {
        var parser = parser
        do {
            _ = try parser.feed(ByteBuffer(bytes: bytes))
            return nil
        } catch {
            return error
        }
    }

    /// Whether `bytes` (fed whole) leave the parser waiting for more.
    static func needsMore(_ bytes: [UInt8]) -> Bool {
        var parser = ProxyHeaderParser()
        guard case .needMoreData = try? parser.feed(ByteBuffer(bytes: bytes)) else { return false }
        return true
    }
}
