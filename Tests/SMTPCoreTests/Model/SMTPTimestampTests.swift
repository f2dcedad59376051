import NIOCore
import SMTPCore
import Testing

@Suite struct SMTPTimestampTests {
    @Test(arguments: [
        (0, 0, "1970-01-01T00:00:00.000000Z"),
        (1_764_404_338, 123_456_789, "2025-11-29T08:18:58.123456Z"),
        (951_782_400, 0, "2000-02-29T00:00:00.000000Z"),
        (-1, 0, "1969-12-31T23:59:59.000000Z"),
    ] as [(Int64, Int32, String)])
    func rfc3339(seconds: Int64, nanoseconds: Int32, expected: String) {
        #expect(SMTPTimestamp(seconds: seconds, nanoseconds: nanoseconds).rfc3339 == expected)
        // Reading it back gives the time again (to the microsecond the text keeps).
        #expect(SMTPTimestamp(rfc3339: expected) == SMTPTimestamp(seconds: seconds, nanoseconds: nanoseconds / 1_000 * 1_000))
    }

    @Test(arguments: [
        ("2026-11-29T10:25:57.512423+01:00", 1_795_944_357, 512_423_000),
        ("2026-11-29t09:25:57z", 1_795_944_357, 0),
        ("2026-11-29 09:25:57.5Z", 1_795_944_357, 500_000_000),
        ("2026-11-29T09:25:57.123456789123Z", 1_795_944_357, 123_456_789),
        ("2026-11-29T04:25:57-05:00", 1_795_944_357, 0),
    ] as [(String, Int64, Int32)])
    func readsRFC3339(text: String, seconds: Int64, nanoseconds: Int32) {
        #expect(SMTPTimestamp(rfc3339: text) == SMTPTimestamp(seconds: seconds, nanoseconds: nanoseconds))
    }

    @Test(arguments: [
        "", "yesterday", "2026-13-29T09:25:57Z", "2026-11-32T09:25:57Z", "2026-11-29T24:00:00Z", "2026-11-29T09:25:57",
        "2026-11-29T09:25:57.Z", "2026-11-29T09:25:57Zjunk", "2026-11-29T09:25:57+0100", "2026/11/29T09:25:57Z",
    ])
    func refusesWhatIsNotRFC3339(text: String) {
        #expect(SMTPTimestamp(rfc3339: text) == nil)
    }

    /// The calendar both ways, against day-by-day counting from 1970 over four centuries
    /// (leap years, the 100- and 400-year rules, dates before the epoch).
    @Test func civilDatesRoundTripDayByDay() {
        var date = CivilDate(year: 1800, month: 1, day: 1)
        var days = CivilDate(year: 1800, month: 1, day: 1).daysSinceEpoch
        #expect(days == -62_091)
        func length(_ year: Int, _ month: Int) -> Int {
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        }
        var wrong: [String] = []
        while date.year < 2200 {
            if CivilDate(daysSinceEpoch: days) != date || date.daysSinceEpoch != days { wrong.append("\(date) \(days)") }
            days += 1
            date.day += 1
            if date.day > length(date.year, date.month) {
                date.day = 1
                date.month += 1
                if date.month > 12 { (date.month, date.year) = (1, date.year + 1) }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
        #expect(days == CivilDate(year: 2200, month: 1, day: 1).daysSinceEpoch)
        #expect(CivilDate(daysSinceEpoch: 0) == CivilDate(year: 1970, month: 1, day: 1))
    }
}
