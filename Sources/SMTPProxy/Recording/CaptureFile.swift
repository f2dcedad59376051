import NIOConcurrencyHelpers
import PcapCapture

/// The `--record` pcap file, shared by every session: frames are appended under a lock and the
/// file is flushed after each session and at shutdown, so it is valid whenever the proxy stops.
///
/// Write failures are never silent: `health` reports each episode on standard error and counts
/// every failed write (`smtp_inspect_recording_write_errors_total`). Frames that could not be
/// written are lost from the recording (it is evidence, not the audit trail: relaying goes on).
public final class CaptureFile: Sendable {
    private let writer: NIOLockedValueBox<PcapWriter?>
    public let path: String
    public let health: OutputHealth

    public init(path: String, health: OutputHealth? = nil) throws {
        self.path = path
        self.health = health ?? OutputHealth(
            label: "recording \(path)", consequence: "frames are lost from the recording until writing works again")
        do {
            writer = NIOLockedValueBox(try PcapWriter.create(path: path))
        } catch {
            throw ProxyError.unusableRecording(path: path, reason: error.message)
        }
    }

    func write(_ frames: [SynthesizedFrame]) {
        guard !frames.isEmpty else { return }
        writer.withLockedValue { writer in
            guard let writer else { return }
            for frame in frames {
                do throws(PcapError) {
                    try writer.write(frame)
                } catch {
                    health.failed(error.message)
                    return
                }
            }
        }
    }

    public func flush() {
        writer.withLockedValue { writer in
            guard let writer else { return }
            do throws(PcapError) {
                try writer.flush()
                health.succeeded()
            } catch {
                health.failed(error.message)
            }
        }
    }

    /// Closes the current file complete and goes on in a new one at `path` (SIGUSR1, after
    /// logrotate renamed the old one; a file that was not renamed is appended to, not truncated).
    /// Sessions in progress continue in the new file from their next frame.
    public func reopen() {
        writer.withLockedValue { writer in
            guard let current = writer else { return }
            do throws(PcapError) {
                try current.close()
            } catch {
                health.failed(error.message)
            }
            do throws(PcapError) {
                writer = try PcapWriter.append(path: path)
            } catch {
                writer = nil
                health.failed("cannot start a new recording: \(error.message)")
            }
        }
    }

    public func close() {
        writer.withLockedValue { writer in
            do throws(PcapError) {
                try writer?.close()
            } catch {
                health.failed(error.message)
            }
            writer = nil
        }
    }
}
