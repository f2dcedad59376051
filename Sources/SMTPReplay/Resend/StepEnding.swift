/// How a step's wait ended.
enum StepEnding {
    case complete
    case timedOut
    case closed
    /// The connection failed (sending, or reading).
    case failed(SocketFailure)

    var reason: String? {
        switch self {
        case .complete: nil
        case .timedOut: "timeout"
        case .closed: "closed"
        case .failed: "connection-failed"
        }
    }
}
