internal import CPcap
import struct NIOCore.ByteBuffer
import struct NIOCore.ByteBufferAllocator

/// Reads a pcap (microsecond or nanosecond) or pcapng capture through libpcap.
///
/// The reader owns libpcap's handle and closes it when released; no C pointer leaves this type.
///
///     let reader = try PcapReader.open(path: "mail.pcapng")
///     while let packet = try reader.next() {
///         // packet.timestamp, packet.linkType, packet.data, packet.originalLength
///     }
///
/// A file that is not a capture (or is empty, or missing) fails in `open`. A file that is
/// truncated or corrupt part-way yields its readable packets, then `next()` throws a
/// `PcapError` of kind `readFailed` carrying libpcap's message; after that `next()` returns nil.
/// Timestamps always have nanosecond precision (libpcap scales microsecond files).
///
/// Not thread-safe: one reader belongs to one consumer.
public final class PcapReader {
    /// The file as given to `open`.
    public let path: String
    /// The capture's link-layer type (libpcap reads one per file).
    public let linkType: LinkType
    /// The snapshot length from the file header.
    public let snapshotLength: Int
    /// Packets returned so far.
    public private(set) var packetsRead = 0

    private var handle: OpaquePointer?
    private var finished = false
    private let allocator = ByteBufferAllocator()

    private init(path: String, handle: OpaquePointer) {
        self.path = path
        self.handle = handle
        self.linkType = LinkType(rawValue: pcap_datalink(handle))
        self.snapshotLength = Int(pcap_snapshot(handle))
    }

    deinit {
        if let handle { pcap_close(handle) }
    }

    /// Opens a capture file (`-` reads standard input).
    ///
    /// - Throws: `PcapError` of kind `cannotOpen` with libpcap's reason (`unknown file format`,
    ///   `No such file or directory`, `truncated dump file…` for an empty file).
    public static func open(path: String) throws(PcapError) -> PcapReader {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        let handle = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errorBuffer)
        guard let handle else {
            let message = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw PcapError(kind: .cannotOpen, message: message.isEmpty ? "not a capture file" : message, path: path)
        }
        return PcapReader(path: path, handle: handle)
    }

    /// The next packet, or nil at the end of the file.
    ///
    /// - Throws: `PcapError` of kind `readFailed` when the file is truncated or corrupt; the
    ///   packets before it were returned normally.
    public func next() throws(PcapError) -> CapturedPacket? {
        guard !finished, let handle else { return nil }
        var record = cpcap_record()
        switch cpcap_next(handle, &record) {
        case 1:
            packetsRead += 1
            let length = Int(record.captured_length)
            var data = allocator.buffer(capacity: length)
            if length > 0, let bytes = record.data {
                data.writeBytes(UnsafeRawBufferPointer(start: bytes, count: length))
            }
            return CapturedPacket(
                timestamp: PacketTimestamp(seconds: record.seconds, nanoseconds: Int32(truncatingIfNeeded: record.subseconds)),
                linkType: linkType,
                data: data,
                originalLength: Int(record.original_length)
            )
        case -2:
            finished = true
            return nil
        default:
            finished = true
            let message = String(cString: pcap_geterr(handle))
            throw PcapError(kind: .readFailed, message: message, path: path, packetsRead: packetsRead)
        }
    }

    /// Every remaining packet (tests and small files).
    public func readAll() throws(PcapError) -> [CapturedPacket] {
        var packets: [CapturedPacket] = []
        while let packet = try next() { packets.append(packet) }
        return packets
    }

    /// How far into the file the reader is, in bytes (for progress), or nil when unknown.
    public var fileOffset: Int64? {
        guard let handle else { return nil }
        let offset = cpcap_file_offset(handle)
        return offset >= 0 ? offset : nil
    }
}

@available(*, unavailable)
extension PcapReader: Sendable {}
