import PcapCapture
import struct NIOCore.ByteBuffer

/// What the reassembler reports, in capture order.
///
///     for event in events {
///         switch event.kind {
///         case .opened(let info): …                      // first packet of connection `event.connection`
///         case .data(let direction, let bytes): …       // the next in-order bytes of one direction
///         case .gap(let direction, let count): …        // `count` bytes that are not in the capture
///         case .overlapConflict(let direction, let count): …  // a retransmission that differs
///         case .closed(let direction, let reason): …    // FIN reached in order, or RST
///         case .finished(let reason): …                 // the connection is done with
///         }
///     }
public struct ReassemblyEvent: Sendable {
    public enum Kind: Sendable {
        case opened(ConnectionInfo)
        /// In-order payload; a slice of the captured packet (no copy).
        case data(StreamDirection, ByteBuffer)
        /// Bytes that never appeared in the capture: the stream continues `count` bytes later.
        case gap(StreamDirection, count: Int)
        /// A retransmission whose bytes differ from the copy already taken (`count` bytes). The
        /// first copy was kept; a receiver may have kept the other (an evasion technique).
        case overlapConflict(StreamDirection, count: Int)
        case closed(StreamDirection, CloseReason)
        case finished(FinishReason)
    }

    public enum CloseReason: Hashable, Sendable {
        /// The direction's FIN was reached with every byte before it delivered (or reported as a gap).
        case fin
        /// A RST ended the connection.
        case reset
    }

    public enum FinishReason: Hashable, Sendable {
        /// Both directions closed.
        case closed
        /// A new SYN reused the addresses: a new connection (with a new id) follows.
        case superseded
        /// The capture ended with the connection still open.
        case captureEnded
        /// No packet for `TCPReassembler.idleTimeout` seconds of capture time: its state was released.
        case idle
    }

    public var connection: Int
    public var kind: Kind
    /// The capture time of the packet that caused the event.
    public var timestamp: PacketTimestamp

    public init(connection: Int, kind: Kind, timestamp: PacketTimestamp) {
        self.connection = connection
        self.kind = kind
        self.timestamp = timestamp
    }
}
