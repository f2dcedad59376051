#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SMTPCore

extension SMTPTimestamp {
    /// The wall-clock time (a resend's events are stamped when they happen, not with capture time).
    static func wallClock() -> SMTPTimestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return SMTPTimestamp(seconds: Int64(spec.tv_sec), nanoseconds: Int32(spec.tv_nsec))
    }
}
