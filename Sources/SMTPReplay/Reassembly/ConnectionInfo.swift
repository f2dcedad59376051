import PcapCapture

/// A TCP connection as the reassembler first saw it.
///
/// `id` counts connections in order of their first packet, from 0, and a SYN that reuses a
/// closed connection's addresses starts a new one: the same numbering as Wireshark's
/// `tcp.stream`, so `tshark -r FILE -z follow,tcp,raw,<id>` shows the same connection.
public struct ConnectionInfo: Hashable, Sendable, CustomStringConvertible {
    public var id: Int
    public var initiator: TCPEndpoint
    public var responder: TCPEndpoint
    /// True when the initiator is known from a SYN (or SYN-ACK); false when guessed from the
    /// first captured segment (the capture started mid-connection).
    public var initiatorFromHandshake: Bool

    public init(id: Int, initiator: TCPEndpoint, responder: TCPEndpoint, initiatorFromHandshake: Bool) {
        self.id = id
        self.initiator = initiator
        self.responder = responder
        self.initiatorFromHandshake = initiatorFromHandshake
    }

    /// The sending endpoint of a direction.
    public func sender(of direction: StreamDirection) -> TCPEndpoint {
        direction == .fromInitiator ? initiator : responder
    }

    public var description: String { "#\(id) \(initiator) → \(responder)" }
}
