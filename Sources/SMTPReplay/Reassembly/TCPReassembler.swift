import PcapCapture

/// Reassembles every TCP connection of a capture into ordered byte streams.
///
///     var reassembler = TCPReassembler()
///     var events: [ReassemblyEvent] = []
///     for segment in segments {
///         reassembler.process(segment, into: &events)
///         handle(events); events.removeAll(keepingCapacity: true)
///     }
///     reassembler.finish(into: &events)   // end of capture: remaining holes, open connections
///
/// Connections are keyed by their 4-tuple in both directions and may interleave freely. Each
/// direction is reassembled by sequence number (see `HalfStream` for the policy: first received
/// wins, gaps reported and never filled, wrap-around at 2^32, FIN/RST). The capture may start
/// mid-connection: a direction then begins at its first captured segment.
///
/// Memory: out-of-order bytes are bounded per direction (`bufferLimit`, 4 MiB by default;
/// beyond it the oldest hole is declared a gap), and `discard(connection:)` stops keeping
/// payload for a connection nobody wants (its sequence state remains, cheaply). Finished
/// connections stay as small tombstones (so late retransmissions are not a new connection)
/// until they have been idle for `tombstoneLifetime` seconds of capture time; open connections
/// silent for `idleTimeout` seconds (half-open scans, captures that lost the end) are finished
/// then, so a long capture does not accumulate them.
public struct TCPReassembler: Sendable {
    public let bufferLimit: Int
    public let tombstoneLifetime: Int64
    public let idleTimeout: Int64
    public private(set) var statistics = ReassemblyStatistics()

    private var connections: [ConnectionKey: TCPConnection] = [:]
    private var keysByID: [Int: ConnectionKey] = [:]
    private var nextID = 0
    private var segmentsSincePurge = 0
    /// Segments between two looks for idle connections and stale tombstones.
    var maintenanceInterval = 65_536

    public init(bufferLimit: Int = 4 << 20, tombstoneLifetime: Int64 = 600, idleTimeout: Int64 = 3_600) {
        self.bufferLimit = bufferLimit
        self.tombstoneLifetime = tombstoneLifetime
        self.idleTimeout = idleTimeout
    }

    /// Connections currently tracked (open ones and tombstones).
    public var trackedConnections: Int { connections.count }

    public mutating func process(_ segment: TCPSegment, into events: inout [ReassemblyEvent]) {
        statistics.segments += 1
        let key = ConnectionKey(segment.source, segment.destination)
        if connections[key] != nil {
            if connections[key]!.isReopenedBy(segment) {
                connections[key]!.close(.superseded, at: segment.timestamp, &events, &statistics)
                keysByID[connections[key]!.info.id] = nil
                open(key, with: segment, &events)
            }
        } else {
            open(key, with: segment, &events)
        }
        connections[key]!.process(segment, &events, &statistics)
        segmentsSincePurge += 1
        if segmentsSincePurge >= maintenanceInterval {
            segmentsSincePurge = 0
            purge(now: segment.timestamp, &events)
        }
    }

    /// The capture ended: every open connection reports its holes and is finished.
    public mutating func finish(into events: inout [ReassemblyEvent]) {
        let open = connections.values.filter { !$0.finished }.sorted { $0.info.id < $1.info.id }
        for connection in open {
            let key = ConnectionKey(connection.info.initiator, connection.info.responder)
            connections[key]!.close(.captureEnded, at: connection.lastSeen, &events, &statistics)
        }
        connections.removeAll()
        keysByID.removeAll()
    }

    /// Stops keeping and reporting payload of a connection (not SMTP, or its session is over).
    /// Its sequence state is kept so that it ends normally.
    public mutating func discard(connection id: Int) {
        guard let key = keysByID[id] else { return }
        connections[key]?.discard()
    }

    private mutating func open(_ key: ConnectionKey, with segment: TCPSegment, _ events: inout [ReassemblyEvent]) {
        let initiator: TCPEndpoint
        let fromHandshake: Bool
        if segment.flags.contains(.syn) {
            initiator = segment.flags.contains(.ack) ? segment.destination : segment.source
            fromHandshake = true
        } else {
            initiator = segment.source
            fromHandshake = false
        }
        let responder = initiator == segment.source ? segment.destination : segment.source
        let info = ConnectionInfo(id: nextID, initiator: initiator, responder: responder, initiatorFromHandshake: fromHandshake)
        nextID += 1
        statistics.connections += 1
        connections[key] = TCPConnection(info: info, bufferLimit: bufferLimit, at: segment.timestamp)
        keysByID[info.id] = key
        events.append(ReassemblyEvent(connection: info.id, kind: .opened(info), timestamp: segment.timestamp))
    }

    /// Releases tombstones and idle connections (in id order, so that output stays deterministic).
    private mutating func purge(now: PacketTimestamp, _ events: inout [ReassemblyEvent]) {
        let idle = connections.values
            .filter { !$0.finished && $0.lastSeen.seconds < now.seconds - idleTimeout }
            .sorted { $0.info.id < $1.info.id }
        for connection in idle {
            let key = ConnectionKey(connection.info.initiator, connection.info.responder)
            connections[key]!.close(.idle, at: connection.lastSeen, &events, &statistics)
        }
        let stale = connections.filter { $0.value.finished && $0.value.lastSeen.seconds < now.seconds - tombstoneLifetime }
        for (key, connection) in stale {
            connections[key] = nil
            keysByID[connection.info.id] = nil
        }
    }
}
