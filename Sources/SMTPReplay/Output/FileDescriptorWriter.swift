#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered text output to a file descriptor (standard output for the report, standard error
/// for messages), written with `write(2)`.
///
///     let out = FileDescriptorWriter(descriptor: STDOUT_FILENO)
///     out.write(event.jsonLine); out.write("\n")
///     out.flush()
///
/// A reader that went away (EPIPE: `replay … | head`) stops the output quietly: `isBroken`
/// turns true and further writes are dropped.
public final class FileDescriptorWriter {
    public let descriptor: Int32
    private var buffer: [UInt8] = []
    private let capacity: Int
    public private(set) var isBroken = false

    public init(descriptor: Int32, capacity: Int = 64 * 1024) {
        self.descriptor = descriptor
        self.capacity = capacity
        buffer.reserveCapacity(capacity)
    }

    deinit {
        flush()
    }

    /// True when the descriptor is a terminal.
    public var isTerminal: Bool { isatty(descriptor) == 1 }

    public func write(_ text: String) {
        guard !isBroken else { return }
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= capacity { flush() }
    }

    public func flush() {
        flushBuffer()
    }

    private func flushBuffer() {
        guard !buffer.isEmpty, !isBroken else {
            buffer.removeAll(keepingCapacity: true)
            return
        }
        var written = 0
        buffer.withUnsafeBytes { raw in
            while written < raw.count {
                let result = systemWrite(descriptor, raw.baseAddress! + written, raw.count - written)
                if result > 0 {
                    written += result
                } else if result < 0 && errno == EINTR {
                    continue
                } else {
                    isBroken = true
                    return
                }
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// `write(2)` (the method of the same name hides it inside the class).
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

@available(*, unavailable)
extension FileDescriptorWriter: Sendable {}
