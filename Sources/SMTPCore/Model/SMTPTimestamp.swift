/// A point in time, handed to the engine by its driver together with the bytes it read.
///
/// The core never reads a clock: the live proxy passes the wall-clock time of each read, the
/// replayer passes the capture timestamp of each packet. Formatting is RFC 3339 in UTC.
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

    /// `2026-11-29T08:18:58.123456Z` (microsecond precision, always UTC).
    public var rfc3339: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        appendRFC3339(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `rfc3339`'s bytes to `out` (the audit log formats one per event).
    public func appendRFC3339(to out: inout [UInt8]) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = Self.civilDate(daysSinceEpoch: days)
        let micros = Int(nanoseconds) / 1_000
        guard (0...9999).contains(year), (0..<1_000_000).contains(micros) else {
            Self.appendAnyYear(year, month, day, secondOfDay: Int(secondOfDay), micros: micros, to: &out)
            return
        }
        // The common case: a fixed 27-byte layout written into a stack buffer, appended once.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 27) { buffer in
            func digits(_ value: Int, _ count: Int, at start: Int) {
                var rest = value
                for index in stride(from: start + count - 1, through: start, by: -1) {
                    buffer[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                    rest /= 10
                }
            }
            digits(year, 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            digits(month, 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            digits(day, 2, at: 8)
            buffer[10] = UInt8(ascii: "T")
            digits(Int(secondOfDay / 3600), 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            digits(Int(secondOfDay / 60 % 60), 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            digits(Int(secondOfDay % 60), 2, at: 17)
            buffer[19] = UInt8(ascii: ".")
            digits(micros, 6, at: 20)
            buffer[26] = UInt8(ascii: "Z")
            out.append(contentsOf: UnsafeBufferPointer(buffer))
        }
    }

    /// `appendRFC3339` for years outside 0…9999 (a hostile capture can carry any timestamp).
    private static func appendAnyYear(_ year: Int, _ month: Int, _ day: Int, secondOfDay: Int, micros: Int, to out: inout [UInt8]) {
        Self.append(year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        Self.append(month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        Self.append(day, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        Self.append(Int(secondOfDay / 3600), width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        Self.append(Int(secondOfDay / 60 % 60), width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        Self.append(Int(secondOfDay % 60), width: 2, to: &out)
        out.append(UInt8(ascii: "."))
        Self.append(micros, width: 6, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// `value` in decimal, zero-padded to `width` digits (years past 9999 get more, years before
    /// 0 a minus sign: a hostile capture can carry any timestamp).
    private static func append(_ signed: Int, width: Int, to out: inout [UInt8]) {
        if signed < 0 { out.append(UInt8(ascii: "-")) }
        let value = signed.magnitude
        var digits = 1
        var limit: UInt = 10
        while value >= limit, digits < 19 {
            digits += 1
            limit &*= 10
        }
        var divisor: UInt = 1
        for _ in 1..<max(width, digits) { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
    private static func civilDate(daysSinceEpoch: Int64) -> (Int, Int, Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }
}
