import Testing

@testable import SMTPServices

/// The two-bucket sliding window: exact within a bucket, fading linearly over the next one.
@Suite struct WindowCellTests {
    static let minute: Int64 = 60_000

    @Test func countsExactlyWithinOneBucket() {
        var cell = WindowCell()
        let start: Int64 = 1_800_000_000_000  // a bucket boundary (a multiple of a minute)
        for index in 0..<5 {
            #expect(cell.add(1, at: start + Int64(index) * 1000, window: Self.minute) == index + 1)
        }
        #expect(cell.estimate(at: start + Self.minute - 1, window: Self.minute) == 5)
    }

    @Test func thePreviousBucketFadesLinearly() {
        var cell = WindowCell()
        let start: Int64 = 1_800_000_000_000
        _ = cell.add(10, at: start, window: Self.minute)
        // At the start of the next bucket the previous one counts fully, halfway through by half.
        #expect(cell.estimate(at: start + Self.minute, window: Self.minute) == 10)
        #expect(cell.estimate(at: start + Self.minute + Self.minute / 2, window: Self.minute) == 5)
        #expect(cell.estimate(at: start + 2 * Self.minute - 1, window: Self.minute) == 0)
        #expect(cell.isStale(at: start + 2 * Self.minute, window: Self.minute))
        // Counting in the next bucket keeps the fading previous one.
        #expect(cell.add(1, at: start + Self.minute + Self.minute / 2, window: Self.minute) == 6)
    }

    @Test func aGapOfTwoBucketsForgetsEverything() {
        var cell = WindowCell()
        let start: Int64 = 1_800_000_000_000
        _ = cell.add(7, at: start, window: Self.minute)
        #expect(cell.add(1, at: start + 2 * Self.minute, window: Self.minute) == 1)
        #expect(cell.previous == 0)
    }

    @Test func timeBeforeTheEpochAndOutOfOrderTimesAreSafe() {
        var cell = WindowCell()
        #expect(cell.add(1, at: -90_000, window: Self.minute) == 1)
        #expect(cell.add(1, at: -61_000, window: Self.minute) == 2)  // same bucket [-120 s, -60 s)
        // An earlier time than the cell's bucket (a replay of an older capture) counts in.
        var later = WindowCell()
        _ = later.add(1, at: 10 * Self.minute, window: Self.minute)
        #expect(later.add(1, at: 9 * Self.minute, window: Self.minute) >= 2)
    }

    @Test func countsSaturateInsteadOfOverflowing() {
        var cell = WindowCell()
        _ = cell.add(.max, at: 0, window: Self.minute)
        #expect(cell.add(5, at: 1, window: Self.minute) == Int(UInt32.max))
    }

    @Test func theSessionGaugeNeverGoesNegative() {
        var cell = WindowCell()
        #expect(cell.adjustGauge(by: 1) == 1)
        #expect(cell.adjustGauge(by: -1) == 0)
        #expect(cell.adjustGauge(by: -1) == 0)
    }
}
