import CLibFuzzer
import NIOCore
import SMTPCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Shared pieces of the fuzz targets: a crash with a message when an invariant fails, the
/// repository root (for the shipped rule files), and a deterministic way to cut a byte string
/// into pieces so that a target can compare a whole feed with a split one.
public enum Fuzz {
    /// Fails the run: libFuzzer reports the crash and saves the input.
    public static func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                             file: StaticString = #fileID, line: UInt = #line) {
        if !condition() {
            let text = "fuzz invariant violated at \(file):\(line): \(message())\n"
            _ = text.withCString { write(2, $0, strlen($0)) }
            abort()
        }
    }

    /// Runs libFuzzer's driver with `callback` as the target (what each target's entry point does).
    public static func runDriver(
        _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt {
        var argc = argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
        return LLVMFuzzerRunDriver(&argc, &argv, callback)
    }

    /// The repository root: `SMTP_INSPECT_ROOT`, else worked out from this source file's path
    /// (`<root>/Fuzzing/Sources/FuzzSupport/FuzzSupport.swift`).
    public static let repositoryRoot: String = {
        if let value = getenv("SMTP_INSPECT_ROOT") { return String(cString: value) }
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)
        return parts.joined(separator: "/")
    }()

    /// A buffer holding a copy of the bytes.
    public static func buffer(_ bytes: some Collection<UInt8>) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        return buffer
    }

    /// Cuts `bytes` into pieces whose sizes cycle through 1…`period` (never empty pieces, never
    /// more pieces than bytes), starting at `seed`; the same seed always gives the same cuts.
    public static func pieces(of bytes: ArraySlice<UInt8>, seed: UInt8, period: Int = 7) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var step = UInt(seed)
        while start < bytes.endIndex {
            let size = 1 + Int(step % UInt(period))
            step = step &* 5 &+ 3
            let end = min(start + size, bytes.endIndex)
            result.append(bytes[start..<end])
            start = end
        }
        return result
    }

    /// The readable bytes of a buffer.
    public static func bytes(_ buffer: ByteBuffer) -> [UInt8] {
        Array(buffer.readableBytesView)
    }

    /// The bytes of several buffers, joined.
    public static func joined(_ buffers: [ByteBuffer]) -> [UInt8] {
        var out: [UInt8] = []
        for buffer in buffers { out.append(contentsOf: buffer.readableBytesView) }
        return out
    }

    /// A fixed clock: the targets compare runs, so every call of a run gets the same time.
    public static let time = SMTPTimestamp(seconds: 1_764_400_000)

    /// Client and server endpoints for engine configurations.
    public static let client = Endpoint(host: "192.0.2.7", port: 40_000)
    public static let server = Endpoint(host: "198.51.100.25", port: 25)
}
