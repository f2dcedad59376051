/// Counters of one reassembler run, for the replay summary and tests.
public struct ReassemblyStatistics: Hashable, Sendable {
    public var segments = 0
    public var connections = 0
    /// Payload bytes delivered in order.
    public var deliveredBytes: Int64 = 0
    /// Payload bytes seen again after delivery or buffering (retransmissions, overlaps): the
    /// first-received copy was kept.
    public var duplicateBytes: Int64 = 0
    /// Bytes of those that differed from the copy kept.
    public var conflictingBytes: Int64 = 0
    public var gaps = 0
    public var gapBytes: Int64 = 0
    /// Segments that arrived for a direction already closed, or too far outside its window.
    public var ignoredSegments = 0
    /// Times a segment was held back because it acknowledged data the capture had not shown yet
    /// (the two directions captured out of order).
    public var heldSegments = 0

    public init() {}
}
