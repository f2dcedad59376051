/// The resolution of a pcap file's timestamps (the magic number tells readers which).
public enum TimestampPrecision: Hashable, Sendable {
    /// Magic `0xa1b2c3d4`: what every tool reads (the default for writing).
    case microsecond
    /// Magic `0xa1b23c4d`.
    case nanosecond
}
