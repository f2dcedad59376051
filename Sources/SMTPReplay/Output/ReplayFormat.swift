/// How `smtp-inspect replay` prints its results.
public enum ReplayFormat: String, Hashable, Sendable, CaseIterable {
    /// A readable per-session summary (the default on a terminal).
    case table
    /// The audit events of SPEC §5, one JSON object per line (the default otherwise).
    case json
}
