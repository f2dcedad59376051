import struct NIOCore.CircularBuffer

/// The commands the client is waiting on replies for, in pipeline order (RFC 2920), the greeting
/// first until it is answered. It counts the entries whose reply decides how the client's next
/// bytes are read (DATA, AUTH, STARTTLS…) as they come and go, so the count cannot disagree with
/// the queue.
struct Pipeline: Sendable {
    private var entries = CircularBuffer<PendingCommand>(initialCapacity: 16)
    /// Entries whose reply decides how the client's next bytes are read.
    private(set) var modeDecisions = 0

    var first: PendingCommand? { entries.first }
    /// The head carries the proxy's own reply (`localReply`): read in place, without copying the
    /// entry out (the per-reply check of `drainLocalReplies`).
    var headIsAnsweredByProxy: Bool {
        guard !entries.isEmpty else { return false }
        return entries[entries.startIndex].localReply != nil
    }
    var last: PendingCommand? { entries.last }
    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// `consuming`: the caller's entry moves into the queue instead of being copied in.
    mutating func append(_ entry: consuming PendingCommand) {
        if entry.decidesClientMode { modeDecisions += 1 }
        entries.append(entry)
    }

    mutating func popFirst() -> PendingCommand? {
        guard let entry = entries.popFirst() else { return nil }
        if entry.decidesClientMode { modeDecisions -= 1 }
        return entry
    }

    mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
        modeDecisions = 0
    }

    /// The last BDAT chunk is in: its message goes to the BDAT LAST command awaiting its reply
    /// (normally the newest entry; none if the server answered before the chunk was in).
    mutating func completeLastChunk(_ progress: MessageProgress) {
        var index = entries.endIndex
        while index != entries.startIndex {
            index = entries.index(before: index)
            if case .bdat(last: true, progress: nil) = entries[index].effect {
                entries[index].effect = .bdat(last: true, progress: progress)
                return
            }
        }
    }

    /// The newest held BDAT whose octets were still coming has them all (`holdsMessages`).
    mutating func completeHeldChunk() {
        var index = entries.endIndex
        while index != entries.startIndex {
            index = entries.index(before: index)
            if case .heldChunk(let last, complete: false) = entries[index].effect {
                entries[index].effect = .heldChunk(last: last, complete: true)
                return
            }
        }
    }
}
