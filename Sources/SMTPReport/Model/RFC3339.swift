import SMTPCore

/// The audit log's `ts` as the report counts time: microseconds since the Unix epoch. Reading
/// and the calendar are SMTPCore's (`SMTPTimestamp(rfc3339:)`, `CivilDate`), the one
/// implementation the audit log is written with.
enum RFC3339 {
    /// `2026-11-29T09:25:57.512423Z` (or with a `+hh:mm` offset) as microseconds; nil when not RFC 3339.
    static func microseconds(_ text: String) -> Int64? {
        SMTPTimestamp(rfc3339: text).map { $0.seconds * 1_000_000 + Int64($0.nanoseconds / 1_000) }
    }

    /// `2026-11-29 09:25:57` (UTC, whole seconds) for the page.
    static func display(_ microseconds: Int64) -> String {
        let seconds = microseconds >= 0 ? microseconds / 1_000_000 : (microseconds - 999_999) / 1_000_000
        let (date, secondOfDay) = CivilDate.split(secondsSinceEpoch: seconds)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(date.year)-\(two(date.month))-\(two(date.day)) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
    }

    /// `4 min 12 s`, `830 ms`.
    static func duration(_ microseconds: Int64) -> String {
        if microseconds < 1_000_000 { return "\(microseconds / 1_000) ms" }
        let seconds = microseconds / 1_000_000
        if seconds < 60 { return "\(Double(microseconds / 10_000) / 100) s" }
        if seconds < 3_600 { return "\(seconds / 60) min \(seconds % 60) s" }
        if seconds < 86_400 { return "\(seconds / 3_600) h \(seconds / 60 % 60) min" }
        return "\(seconds / 86_400) d \(seconds / 3_600 % 24) h"
    }
}
