/// Which way bytes flow in a TCP connection, relative to the side that opened it.
///
/// The initiator is the side that sent the SYN; when the capture holds no handshake, the side
/// that sent the first captured segment (a guess the SMTP detector corrects by content).
public enum StreamDirection: Hashable, Sendable, CustomStringConvertible {
    case fromInitiator
    case fromResponder

    public var reversed: StreamDirection { self == .fromInitiator ? .fromResponder : .fromInitiator }

    public var description: String { self == .fromInitiator ? "initiator→responder" : "responder→initiator" }
}
