#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers
import NIOCore

/// A message held while milters read it (SPEC §12): in memory up to `memoryLimit` (1 MiB), then
/// in a file of `directory` created 0600, never more than `maximumSize` octets. The file is
/// removed by `remove()` (when the transaction ends) or when the spool goes away; files a crashed
/// proxy left behind are removed by `removeLeftovers(in:)` at the next start.
///
///     let spool = MessageSpool(directory: "/var/spool/smtp-inspect", maximumSize: 26_214_400)
///     try spool.append(chunk)                 // as the client's DATA arrives
///     var chunks = spool.chunks()             // ≤ 64 KiB each, from memory or the file
///     while let chunk = try chunks.next() { … }
///
/// The content is the message as the milters see it: header and body with CRLF line ends, no
/// dot-stuffing, no final `.CRLF`. One owner at a time (the driver fills it, then the milter
/// client reads it); a lock keeps a misuse from corrupting it.
public final class MessageSpool: @unchecked Sendable {
    public static let memoryLimit = 1 << 20
    public static let chunkSize = 65_536
    static let filePrefix = "smtp-inspect-spool-"

    public let directory: String
    public let maximumSize: Int?
    public let memoryLimit: Int

    private let lock = NIOLock()
    private var memory = ByteBuffer()
    private var descriptor: Int32 = -1
    private var path: String?
    private var storedSize = 0
    /// `remove()` was called: an append that was still queued (on a thread pool) must not make a
    /// new file.
    private var removed = false
    private static let counter = NIOLockedValueBox(0)

    public enum Failure: Error, Hashable, Sendable, CustomStringConvertible {
        /// Appending would pass `maximumSize`: the message must be refused (552 5.3.4).
        case tooLarge(limit: Int)
        /// The spool file could not be created, written or read.
        case io(String)

        public var description: String {
            switch self {
            case .tooLarge(let limit): "the message exceeds \(limit) octets"
            case .io(let text): text
            }
        }
    }

    /// `directory` nil: `$TMPDIR`, else `/tmp`.
    public init(directory: String? = nil, maximumSize: Int? = nil, memoryLimit: Int = MessageSpool.memoryLimit) {
        self.directory = directory ?? Self.temporaryDirectory
        self.maximumSize = maximumSize
        self.memoryLimit = memoryLimit
    }

    deinit { remove() }

    static var temporaryDirectory: String {
        if let value = getenv("TMPDIR"), value.pointee != 0 { return String(cString: value) }
        return "/tmp"
    }

    /// Octets held.
    public var size: Int { lock.withLock { storedSize } }

    /// The file holding the message, once it outgrew memory.
    public var filePath: String? { lock.withLock { path } }

    /// Whether appending `count` more octets keeps the message in memory (no file I/O): a driver
    /// appends those on its event loop, and hands any other append to a thread pool.
    public func staysInMemory(adding count: Int) -> Bool {
        lock.withLock { descriptor < 0 && !removed && storedSize + count <= memoryLimit }
    }

    public func append(_ bytes: ByteBuffer) throws(Failure) {
        lock.lock()
        defer { lock.unlock() }
        do {
            if removed { throw .io("the spool was removed") }
            if let maximumSize, storedSize + bytes.readableBytes > maximumSize { throw .tooLarge(limit: maximumSize) }
            if descriptor < 0 && storedSize + bytes.readableBytes <= memoryLimit {
                var bytes = bytes
                memory.writeBuffer(&bytes)
                storedSize = memory.readableBytes
                return
            }
            if descriptor < 0 {
                try openFile()
                try writeAll(memory)
                memory = ByteBuffer()
            }
            try writeAll(bytes)
            storedSize += bytes.readableBytes
        }
    }

    /// Up to `length` octets from `offset` (fewer at the end).
    public func read(at offset: Int, length: Int) throws(Failure) -> ByteBuffer {
        lock.lock()
        defer { lock.unlock() }
        do {
            let count = max(0, min(length, storedSize - offset))
            guard count > 0 else { return ByteBuffer() }
            if descriptor < 0 { return memory.getSlice(at: memory.readerIndex + offset, length: count)! }
            var buffer = ByteBuffer()
            buffer.reserveCapacity(count)
            var done = 0
            while done < count {
                let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - done) { pointer in
                    var result: Int
                    repeat { result = pread(descriptor, pointer.baseAddress, count - done, off_t(offset + done)) }
                    while result < 0 && errno == EINTR
                    return max(result, 0)
                }
                guard got > 0 else { throw .io("reading the spool file \(path ?? ""): \(String(cString: strerror(errno)))") }
                done += got
            }
            return buffer
        }
    }

    /// Reads the content from `offset` in chunks of at most `chunkSize` octets.
    public func chunks(from offset: Int = 0, chunkSize: Int = MessageSpool.chunkSize) -> Chunks {
        Chunks(spool: self, offset: offset, chunkSize: chunkSize)
    }

    public struct Chunks: Sendable {
        let spool: MessageSpool
        var offset: Int
        let chunkSize: Int

        public mutating func next() throws(Failure) -> ByteBuffer? {
            let chunk = try spool.read(at: offset, length: chunkSize)
            guard chunk.readableBytes > 0 else { return nil }
            offset += chunk.readableBytes
            return chunk
        }
    }

    /// Forgets the content and removes the file (idempotent).
    public func remove() {
        lock.withLock {
            if descriptor >= 0 { close(descriptor) }
            descriptor = -1
            if let path { unlink(path) }
            path = nil
            memory = ByteBuffer()
            storedSize = 0
            removed = true
        }
    }

    /// Removes spool files of processes that no longer run (a crash or kill left them); returns how
    /// many. Files of running processes (another instance sharing the directory) are kept.
    @discardableResult
    public static func removeLeftovers(in directory: String? = nil) -> Int {
        let directory = directory ?? temporaryDirectory
        guard let handle = opendir(directory) else { return 0 }
        defer { closedir(handle) }
        var removed = 0
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix(filePrefix) else { continue }
            let fields = name.dropFirst(filePrefix.count).split(separator: "-")
            guard let pid = fields.first.flatMap({ pid_t($0) }), pid > 0 else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }
            if unlink(directory + "/" + name) == 0 { removed += 1 }
        }
        return removed
    }

    // MARK: - File (under the lock)

    private func openFile() throws(Failure) {
        let number = Self.counter.withLockedValue { value in
            value += 1
            return value
        }
        var random = SystemRandomNumberGenerator()
        let candidate = "\(directory)/\(Self.filePrefix)\(getpid())-\(number)-\(String(random.next(), radix: 36))"
        let fd = open(candidate, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw .io("cannot create a spool file in \(directory): \(String(cString: strerror(errno)))")
        }
        descriptor = fd
        path = candidate
    }

    private func writeAll(_ bytes: ByteBuffer) throws(Failure) {
        let fd = descriptor
        let failed = bytes.withUnsafeReadableBytes { raw -> Int32? in
            var done = 0
            while done < raw.count {
                let result = write(fd, raw.baseAddress! + done, raw.count - done)
                if result < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                done += result
            }
            return nil
        }
        if let failed { throw .io("writing the spool file \(path ?? ""): \(String(cString: strerror(failed)))") }
    }
}
