import Benchmark

/// The DATA benchmark's own metric: body octets forwarded per second, in MiB/s, per iteration.
enum BodyMetric {
    static let mebibytesPerSecond = BenchmarkMetric.custom("body MiB/s", polarity: .prefersLarger, useScalingFactor: false)
}
