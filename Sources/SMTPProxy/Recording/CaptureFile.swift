import NIOConcurrencyHelpers
import PcapCapture

/// The `--record` pcap file, shared by every session: frames are appended under a lock and the
/// file is flushed after each session and at shutdown, so it is valid whenever the proxy stops.
public final class CaptureFile: Sendable {
    private let writer: NIOLockedValueBox<PcapWriter?>
    public let path: String

    public init(path: String) throws {
        self.path = path
        do {
            writer = NIOLockedValueBox(try PcapWriter.create(path: path))
        } catch {
            throw ProxyError.unusableRecording(path: path, reason: error.message)
        }
    }

    func write(_ frames: [SynthesizedFrame]) {
        guard !frames.isEmpty else { return }
        writer.withLockedValue { writer in
            for frame in frames { try? writer?.write(frame) }
        }
    }

    public func flush() {
        writer.withLockedValue { try? $0?.flush() }
    }

    public func close() {
        writer.withLockedValue { writer in
            try? writer?.close()
            writer = nil
        }
    }
}
