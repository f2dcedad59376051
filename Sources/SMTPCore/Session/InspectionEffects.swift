import struct NIOCore.ByteBuffer

/// What the engine asks its driver to do after one input: `actions`, in the order to carry them
/// out. The driver owns one value, passes it to every engine call and empties it (`removeAll()`,
/// which keeps capacity) after carrying it out.
///
/// The views below (`toServer`, `events`, `closeClient`, …) read the action list for tests and
/// tools that look at one kind of action; drivers walk `actions`.
public struct InspectionEffects: Sendable {
    public var actions: [SessionAction] = []
    /// The events of the `log` actions, in the same order (the n-th `log` is `events[n]`).
    public var events: [AuditEvent] = []

    public init() {}

    public var isEmpty: Bool { actions.isEmpty }

    public mutating func removeAll() {
        actions.removeAll(keepingCapacity: true)
        events.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    public mutating func append(_ action: SessionAction) {
        actions.append(action)
    }

    /// Logs an event of the driver's own (replay's detection anomalies) in the session's order.
    public mutating func log(_ event: AuditEvent) {
        actions.append(.log)
        events.append(event)
    }

    // MARK: - Views

    /// Bytes for the upstream, in order.
    public var toServer: [ByteBuffer] {
        actions.compactMap { if case .writeToServer(let bytes) = $0 { bytes } else { nil } }
    }

    /// Bytes for the client, in order.
    public var toClient: [ByteBuffer] {
        actions.compactMap { if case .writeToClient(let bytes) = $0 { bytes } else { nil } }
    }

    /// The client's bytes as the engine consumed them (`recordsClientTranscript`).
    public var clientTranscript: [ByteBuffer] {
        actions.compactMap { if case .transcribe(let bytes) = $0 { bytes } else { nil } }
    }

    /// Questions asked in this batch.
    public var consults: [(id: ConsultID, request: ConsultRequest)] {
        actions.compactMap { if case .consult(let id, let request) = $0 { (id, request) } else { nil } }
    }

    public var closeClient: Bool { contains { if case .closeClient = $0 { true } else { false } } }
    public var closeServer: Bool { contains { if case .closeServer = $0 { true } else { false } } }
    public var shutdownServerOutput: Bool { contains { if case .shutdownServerOutput = $0 { true } else { false } } }
    public var startClientTLS: Bool { contains { if case .startTLS(.client) = $0 { true } else { false } } }
    public var startServerTLS: Bool { contains { if case .startTLS(.upstream) = $0 { true } else { false } } }
    public var connectsUpstream: Bool { contains { if case .connectUpstream = $0 { true } else { false } } }

    private func contains(_ predicate: (SessionAction) -> Bool) -> Bool {
        actions.contains(where: predicate)
    }
}
