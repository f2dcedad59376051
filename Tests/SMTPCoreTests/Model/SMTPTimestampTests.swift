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
    }
}
