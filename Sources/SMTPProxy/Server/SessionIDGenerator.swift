import NIOConcurrencyHelpers
import SMTPCore

/// Session ids unique across restarts: the start time of the process in base 36, then a counter.
final class SessionIDGenerator: Sendable {
    private let prefix: String
    private let counter = NIOLockedValueBox<UInt64>(0)

    init(start: SMTPTimestamp = .now()) {
        prefix = String(start.seconds, radix: 36)
    }

    func next() -> String {
        let number = counter.withLockedValue { value -> UInt64 in
            value += 1
            return value
        }
        return "\(prefix)-\(number)"
    }
}
