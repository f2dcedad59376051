import NIOCore

/// Reads one PROXY protocol header (v1 or v2, told apart by the first byte) from the start of a
/// connection, fed in whatever pieces the network delivers.
///
///     var parser = ProxyHeaderParser()
///     switch try parser.feed(bytes) {
///     case .needMoreData: break                                  // keep reading
///     case .complete(let header, let remainder): ...             // remainder: the bytes after it
///     }
///
/// Bounded and fail-fast: every byte is checked as it arrives, so garbage (`EHLO …`, TLS, HTTP) is
/// refused at its first wrong byte, a v1 line must end within 107 bytes (the spec's maximum) and a
/// v2 header within `maximumV2Length`; nothing larger than the header is ever held. Bytes after the
/// header are returned untouched. When the whole header sits in one read (the usual case) nothing
/// is copied.
public struct ProxyHeaderParser: Sendable {
    /// The v1 maximum, CRLF included (spec §2.1).
    public static let maximumV1Length = 107
    /// The v2 signature (spec §2.2).
    static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    /// The fixed part of a v2 header: signature, version/command, family/transport, length.
    static let v2FixedLength = 16

    /// The largest v2 header accepted (fixed part, addresses and TLVs). The protocol allows
    /// 16 + 65535; HAProxy's own TLVs (ALPN, authority, SSL, unique id) fit in far less.
    public let maximumV2Length: Int
    /// Bytes of an incomplete header, kept between reads.
    private var pending: ByteBuffer?

    public enum Outcome: Sendable {
        /// The header is not complete yet.
        case needMoreData
        /// The header, and the bytes that followed it in the last read (possibly none).
        case complete(ProxyHeader, remainder: ByteBuffer)
    }

    public init(maximumV2Length: Int = 4096) {
        self.maximumV2Length = max(Self.v2FixedLength + 216, maximumV2Length)
    }

    /// Bytes of an unfinished header held so far.
    public var bufferedByteCount: Int { pending?.readableBytes ?? 0 }

    /// Takes the next bytes of the connection.
    public mutating func feed(_ bytes: ByteBuffer) throws(ProxyHeaderError) -> Outcome {
        var buffer: ByteBuffer
        if var held = pending {
            pending = nil
            var bytes = bytes
            held.writeBuffer(&bytes)
            buffer = held
        } else {
            buffer = bytes
        }
        let maximumV2Length = maximumV2Length
        let scan = buffer.withUnsafeReadableBytes { Self.scan($0, maximumV2Length: maximumV2Length) }
        switch scan {
        case .incomplete:
            pending = buffer
            return .needMoreData
        case .invalid(let error):
            throw error
        case .complete(let header, let length):
            buffer.moveReaderIndex(forwardBy: length)
            return .complete(header, remainder: buffer)
        }
    }

    /// What the bytes so far amount to.
    enum Scan {
        case incomplete
        case invalid(ProxyHeaderError)
        case complete(ProxyHeader, length: Int)
    }

    static func scan(_ bytes: UnsafeRawBufferPointer, maximumV2Length: Int) -> Scan {
        guard let first = bytes.first else { return .incomplete }
        switch first {
        case UInt8(ascii: "P"): return scanV1(bytes)
        case signature[0]: return scanV2(bytes, maximumLength: maximumV2Length)
        default: return .invalid(.notAProxyHeader)
        }
    }
}
