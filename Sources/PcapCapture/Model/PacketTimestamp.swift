/// When a packet was captured: seconds since the Unix epoch and nanoseconds within the second.
///
/// Captures with microsecond resolution are read with nanosecond precision too (libpcap scales
/// them), so `nanoseconds` is always in `0..<1_000_000_000`.
///
///     let t = PacketTimestamp(seconds: 1_254_722_767, nanoseconds: 492_060_000)
public struct PacketTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static let zero = PacketTimestamp(seconds: 0)

    public static func < (lhs: PacketTimestamp, rhs: PacketTimestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    /// The timestamp `nanoseconds` later (negative values go back).
    public func advanced(byNanoseconds delta: Int64) -> PacketTimestamp {
        let total = Int64(nanoseconds) + delta
        var seconds = self.seconds + total / 1_000_000_000
        var rest = total % 1_000_000_000
        if rest < 0 {
            rest += 1_000_000_000
            seconds -= 1
        }
        return PacketTimestamp(seconds: seconds, nanoseconds: Int32(rest))
    }

    /// `1254722767.492060000`
    public var description: String {
        let fraction = String(nanoseconds)
        return "\(seconds)." + String(repeating: "0", count: 9 - fraction.count) + fraction
    }
}
