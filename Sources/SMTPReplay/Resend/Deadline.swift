#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A point on the monotonic clock by which a socket operation must be done.
struct Deadline: Sendable {
    let nanoseconds: UInt64

    /// `seconds` from now.
    init(after seconds: Double) {
        nanoseconds = Self.now() &+ UInt64(max(0, seconds) * 1e9)
    }

    /// Milliseconds left, for `poll(2)` (0 once passed).
    var remainingMilliseconds: Int32 {
        let now = Self.now()
        guard nanoseconds > now else { return 0 }
        return Int32(clamping: (nanoseconds - now + 999_999) / 1_000_000)
    }

    var hasPassed: Bool { Self.now() >= nanoseconds }

    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
