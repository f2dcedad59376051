import PcapCapture

/// A capture that could not be read to its end. For a truncated or corrupt file the sessions
/// read before the damage were replayed and reported; `summary` says how far it got.
///
///     smtp-to-comma.pcap: invalid packet capture length 3925868813, bigger than snaplen of 262144 (after 18 packets)
public struct ReplayError: Error, Sendable, CustomStringConvertible {
    public var underlying: PcapError
    public var summary: ReplaySummary?

    public init(_ underlying: PcapError, summary: ReplaySummary? = nil) {
        self.underlying = underlying
        self.summary = summary
    }

    /// One line, for standard error.
    public var description: String { underlying.description }
}
