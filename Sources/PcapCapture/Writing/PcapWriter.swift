internal import CPcap
import struct NIOCore.ByteBuffer

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a classic pcap file with libpcap's own writer (`pcap_open_dead` + `pcap_dump_open`).
///
///     let writer = try PcapWriter.create(path: "session.pcap", linkType: .ethernet)
///     var tcp = TCPStreamSynthesizer(client: client, server: server)
///     for frame in tcp.open(at: now) { try writer.write(frame) }
///     for frame in tcp.send(.toServer, bytes: Array("EHLO x\r\n".utf8), at: now) { try writer.write(frame) }
///     try writer.close()
///
/// Safe to share between threads: each `write` takes a lock, so records never interleave.
/// `flush()` makes everything written so far readable by other programs (the file is valid after
/// every flush: pcap has no trailer). `close()` flushes and closes; `deinit` closes too.
public final class PcapWriter: @unchecked Sendable {
    public let path: String
    public let linkType: LinkType
    public let snapshotLength: Int
    public let precision: TimestampPrecision

    // Both guarded by `lock`.
    private var handle: OpaquePointer?
    private var dumper: OpaquePointer?
    private let lock = WriterLock()

    private init(path: String, linkType: LinkType, snapshotLength: Int, precision: TimestampPrecision, handle: OpaquePointer, dumper: OpaquePointer) {
        self.path = path
        self.linkType = linkType
        self.snapshotLength = snapshotLength
        self.precision = precision
        self.handle = handle
        self.dumper = dumper
    }

    deinit {
        if let dumper { pcap_dump_close(dumper) }
        if let handle { pcap_close(handle) }
    }

    /// Creates (or truncates) `path`; `-` writes to standard output.
    public static func create(
        path: String, linkType: LinkType = .ethernet, snapshotLength: Int = 262_144, precision: TimestampPrecision = .microsecond
    ) throws(PcapError) -> PcapWriter {
        try open(path: path, linkType: linkType, snapshotLength: snapshotLength, precision: precision, appending: false)
    }

    /// Opens `path` to append records (libpcap's `pcap_dump_open_append`): a missing or empty
    /// file gets a new header, an existing one must have this link type and precision. Used to
    /// start a new file after log rotation without truncating a file that was not rotated.
    public static func append(
        path: String, linkType: LinkType = .ethernet, snapshotLength: Int = 262_144, precision: TimestampPrecision = .microsecond
    ) throws(PcapError) -> PcapWriter {
        try open(path: path, linkType: linkType, snapshotLength: snapshotLength, precision: precision, appending: true)
    }

    private static func open(
        path: String, linkType: LinkType, snapshotLength: Int, precision: TimestampPrecision, appending: Bool
    ) throws(PcapError) -> PcapWriter {
        guard snapshotLength > 0, snapshotLength <= Int(Int32.max) else {
            throw PcapError(kind: .invalidArgument, message: "snapshot length \(snapshotLength) out of range", path: path)
        }
        let cPrecision = precision == .nanosecond ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO
        guard let handle = pcap_open_dead_with_tstamp_precision(linkType.rawValue, Int32(snapshotLength), UInt32(cPrecision)) else {
            throw PcapError(kind: .cannotCreate, message: "pcap_open_dead failed for link type \(linkType)", path: path)
        }
        guard let dumper = appending ? pcap_dump_open_append(handle, path) : pcap_dump_open(handle, path) else {
            let message = String(cString: pcap_geterr(handle))
            pcap_close(handle)
            throw PcapError(kind: .cannotCreate, message: message, path: path)
        }
        return PcapWriter(path: path, linkType: linkType, snapshotLength: snapshotLength, precision: precision, handle: handle, dumper: dumper)
    }

    /// Appends one record. Bytes beyond the snapshot length are cut (the record keeps the full
    /// `originalLength`, as a capturing tool would).
    public func write(_ bytes: [UInt8], timestamp: PacketTimestamp, originalLength: Int? = nil) throws(PcapError) {
        let result: PcapError? = bytes.withUnsafeBytes { raw in
            writeRecord(raw, timestamp: timestamp, originalLength: originalLength ?? raw.count)
        }
        if let result { throw result }
    }

    /// Appends a packet read elsewhere (its link type must be the writer's).
    public func write(_ packet: CapturedPacket) throws(PcapError) {
        guard packet.linkType == linkType else {
            throw PcapError(kind: .invalidArgument, message: "packet link type \(packet.linkType) differs from the file's \(linkType)", path: path)
        }
        let result: PcapError? = packet.data.withUnsafeReadableBytes { raw in
            writeRecord(raw, timestamp: packet.timestamp, originalLength: packet.originalLength)
        }
        if let result { throw result }
    }

    /// Appends a synthesized frame.
    public func write(_ frame: SynthesizedFrame) throws(PcapError) {
        try write(frame.bytes, timestamp: frame.timestamp)
    }

    /// Pushes buffered records to the file.
    public func flush() throws(PcapError) {
        let failure: PcapError? = lock.withLock {
            guard let dumper else { return closedError() }
            if pcap_dump_flush(dumper) != 0 || cpcap_dump_failed(dumper) != 0 {
                let reason = String(cString: strerror(errno))
                cpcap_dump_clear_error(dumper)  // reported once here; the next flush tells whether writing works again
                return PcapError(kind: .writeFailed, message: "flush failed: \(reason)", path: path)
            }
            return nil
        }
        if let failure { throw failure }
    }

    /// Flushes and closes the file. Later writes throw; closing twice does nothing.
    public func close() throws(PcapError) {
        let failure: PcapError? = lock.withLock {
            guard let dumper, let handle else { return nil }
            let failed = pcap_dump_flush(dumper) != 0 || cpcap_dump_failed(dumper) != 0
            pcap_dump_close(dumper)
            pcap_close(handle)
            self.dumper = nil
            self.handle = nil
            return failed ? PcapError(kind: .writeFailed, message: "flush failed at close", path: path) : nil
        }
        if let failure { throw failure }
    }

    private func writeRecord(_ raw: UnsafeRawBufferPointer, timestamp: PacketTimestamp, originalLength: Int) -> PcapError? {
        guard originalLength >= raw.count, originalLength <= Int(UInt32.max) else {
            return PcapError(kind: .invalidArgument, message: "original length \(originalLength) below the \(raw.count) captured bytes", path: path)
        }
        let captured = min(raw.count, snapshotLength)
        let subseconds = precision == .nanosecond ? Int64(timestamp.nanoseconds) : Int64(timestamp.nanoseconds) / 1_000
        return lock.withLock {
            guard let dumper else { return closedError() }
            cpcap_dump(
                dumper, timestamp.seconds, subseconds, UInt32(captured), UInt32(originalLength),
                raw.baseAddress?.assumingMemoryBound(to: UInt8.self))
            guard cpcap_dump_failed(dumper) != 0 else { return nil }
            let reason = String(cString: strerror(errno))
            cpcap_dump_clear_error(dumper)  // reported once here; the next write tells whether writing works again
            return PcapError(kind: .writeFailed, message: "write failed: \(reason)", path: path)
        }
    }

    private func closedError() -> PcapError {
        PcapError(kind: .writeFailed, message: "the writer is closed", path: path)
    }
}
