import NIOConcurrencyHelpers
import NIOCore

/// The bound listener channels of one server: `--listen` first, then `--listen-tls`.
final class ListenerChannels: Sendable {
    private let box = NIOLockedValueBox<[any Channel]>([])
    func add(_ channel: any Channel) { box.withLockedValue { $0.append(channel) } }
    func all() -> [any Channel] { box.withLockedValue { $0 } }
}
