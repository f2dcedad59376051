/// One rule's count for one key: a sliding window estimated from two fixed buckets (12 bytes).
///
/// Time is cut into buckets of the window's length `W`, aligned on the epoch. The cell keeps
/// the count of the current bucket and of the one before; the count over the last `W` is
/// estimated as
///
///     current + previous × (W − elapsed) / W        (elapsed: time since the current bucket began)
///
/// which is exact when the previous bucket's events were spread evenly over it. Its error is
/// bounded by `previous`: an event is counted fully while it is in the current bucket, then
/// fades linearly over the next bucket (so an event is forgotten between W and 2W after it
/// happened, and an event younger than W may already count only in part). Both updates and
/// reads are O(1) and use only the `now` they are given (capture time in replay), so a replay
/// reaches the same counts as the live proxy.
///
/// For `sessions` (a gauge of open sessions) only `current` is used: no window.
struct WindowCell: Hashable, Sendable {
    /// The bucket `current` belongs to: `now / W`, truncated to 32 bits (buckets are ≥ 1 s, so
    /// it wraps after 136 years).
    var bucket: UInt32 = 0
    var current: UInt32 = 0
    var previous: UInt32 = 0

    /// Adds `amount` events at `now` (milliseconds) to a window of `window` milliseconds, and
    /// returns the new estimate.
    mutating func add(_ amount: UInt32, at now: Int64, window: Int64) -> Int {
        roll(to: now, window: window)
        current = current.addingReportingOverflow(amount).overflow ? .max : current + amount
        return estimate(at: now, window: window)
    }

    /// The estimated count of the last `window` milliseconds at `now`.
    func estimate(at now: Int64, window: Int64) -> Int {
        var cell = self
        cell.roll(to: now, window: window)
        let elapsed = now - Self.bucketIndex(now, window) * window
        return Int(cell.current) + Int((Int64(cell.previous) * (window - elapsed)) / window)
    }

    /// True when nothing counted in this cell can count any more at `now`.
    func isStale(at now: Int64, window: Int64) -> Bool {
        estimate(at: now, window: window) == 0
    }

    /// Moves to `now`'s bucket: one bucket on, the current count becomes the previous; further,
    /// both are gone. (A `now` earlier than the cell's bucket, as a replay of an older capture
    /// in the same process, counts into the cell's bucket.)
    private mutating func roll(to now: Int64, window: Int64) {
        let index = UInt32(truncatingIfNeeded: Self.bucketIndex(now, window))
        if current == 0, previous == 0 {
            bucket = index  // an empty cell (new, or reset) starts wherever it is first used
            return
        }
        let distance = index &- bucket
        if distance == 0 || distance > UInt32.max / 2 { return }
        previous = distance == 1 ? current : 0
        current = 0
        bucket = index
    }

    private static func bucketIndex(_ now: Int64, _ window: Int64) -> Int64 {
        now >= 0 ? now / window : (now - window + 1) / window
    }

    // MARK: - Gauge

    /// `sessions`: one more (or one fewer) open session; never below zero (a session that began
    /// before its key was dropped ends without one to take away).
    mutating func adjustGauge(by delta: Int) -> Int {
        let value = max(0, Int(current) + delta)
        current = UInt32(min(value, Int(UInt32.max)))
        return Int(current)
    }
}
