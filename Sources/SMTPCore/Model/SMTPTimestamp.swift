/// A point in time, handed to the engine by its driver together with the bytes it read.
///
/// The core never reads a clock: the live proxy passes the wall-clock time of each read, the
/// replayer passes the capture timestamp of each packet. Its text is RFC 3339 in UTC
/// (`SMTPTimestamp+RFC3339.swift`: writing and reading).
public struct SMTPTimestamp: Hashable, Comparable, Sendable {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var seconds: Int64
    /// Nanoseconds within the second, `0..<1_000_000_000`.
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static let epoch = SMTPTimestamp(seconds: 0)

    public static func < (lhs: SMTPTimestamp, rhs: SMTPTimestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    /// Seconds elapsed from `earlier` to `self` (negative when `earlier` is later).
    public func seconds(since earlier: SMTPTimestamp) -> Double {
        Double(seconds - earlier.seconds) + Double(nanoseconds - earlier.nanoseconds) / 1e9
    }

    /// The time from `earlier` to `self`, exact to the nanosecond (negative when `earlier` is later).
    public func duration(since earlier: SMTPTimestamp) -> Duration {
        .seconds(seconds - earlier.seconds) + .nanoseconds(Int64(nanoseconds) - Int64(earlier.nanoseconds))
    }

    public func adding(seconds delta: Int64) -> SMTPTimestamp {
        SMTPTimestamp(seconds: seconds + delta, nanoseconds: nanoseconds)
    }

    /// `self` moved by `duration` (attosecond parts below a nanosecond dropped).
    public func adding(_ duration: Duration) -> SMTPTimestamp {
        let (wholeSeconds, attoseconds) = duration.components
        var nanos = Int64(nanoseconds) + attoseconds / 1_000_000_000
        var secs = seconds + wholeSeconds + nanos / 1_000_000_000
        nanos %= 1_000_000_000
        if nanos < 0 {
            nanos += 1_000_000_000
            secs -= 1
        }
        return SMTPTimestamp(seconds: secs, nanoseconds: Int32(nanos))
    }
}
