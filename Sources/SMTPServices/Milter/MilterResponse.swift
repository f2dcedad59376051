import NIOCore

/// What a milter answers (`SMFIR_*`).
public enum MilterResponse: Hashable, Sendable {
    /// `O`: the milter's version, the actions it wants and the steps it asks to leave out.
    case negotiate(version: UInt32, actions: MilterActions, steps: MilterSteps)
    /// `c`: go on.
    case `continue`
    /// `a`: accept: no more events for this message (at connect/HELO: for the session).
    case accept
    /// `r`: reject (550 5.7.1).
    case reject
    /// `t`: temporary failure (451 4.7.1).
    case tempfail
    /// `d`: accept and drop the message silently.
    case discard
    /// `y`: reject or tempfail with this SMTP reply (`550 5.7.1 text`, possibly multi-line).
    case replyCode(String)
    /// `s`: send no more events of this kind (body chunks).
    case skip
    /// `4`: close the session (421).
    case shutdown
    /// `f`: the milter gives up on the connection (as `tempfail`).
    case connectionFailure
    /// `p`: still working: the timeout starts again.
    case progress
    /// `q`: put the message in quarantine (recorded, not applied: the proxy has no quarantine).
    case quarantine(String)
    /// `h`: append a header field.
    case addHeader(name: [UInt8], value: [UInt8])
    /// `i`: insert a header field at `index` (0: the top).
    case insertHeader(index: UInt32, name: [UInt8], value: [UInt8])
    /// `m`: change the `index`-th (from 1) field called `name`; an empty value deletes it.
    case changeHeader(index: UInt32, name: [UInt8], value: [UInt8])
    /// `b`: a piece of the replacement body (pieces follow each other).
    case replaceBody(ByteBuffer)
    /// `e`: a new reverse path, with optional ESMTP parameters.
    case changeSender(String, parameters: String?)
    /// `+` / `2`: add a recipient (with optional ESMTP parameters).
    case addRecipient(String, parameters: String?)
    /// `-`: remove a recipient.
    case deleteRecipient(String)

    /// A decision that ends the milter's answer to one command (modifications, progress and
    /// quarantine come before one).
    public var isFinal: Bool {
        switch self {
        case .negotiate, .continue, .accept, .reject, .tempfail, .discard, .replyCode, .skip, .shutdown,
            .connectionFailure:
            true
        case .progress, .quarantine, .addHeader, .insertHeader, .changeHeader, .replaceBody, .changeSender,
            .addRecipient, .deleteRecipient:
            false
        }
    }

    /// Parses one packet; anything not in the protocol, or with a payload that does not fit its
    /// command, is `MilterError.Kind.garbage`.
    public init(packet: MilterPacket) throws(MilterError) {
        var payload = packet.payload
        let code = packet.command
        func noPayload(_ response: MilterResponse) throws(MilterError) -> MilterResponse {
            guard payload.readableBytes == 0 else {
                throw MilterError(.garbage, "reply '\(Self.printable(code))' with \(payload.readableBytes) unexpected octets")
            }
            return response
        }
        func cString() throws(MilterError) -> [UInt8] {
            guard let end = payload.readableBytesView.firstIndex(of: 0) else {
                throw MilterError(.garbage, "reply '\(Self.printable(code))' with a string missing its NUL")
            }
            let bytes = Array(payload.readableBytesView[payload.readerIndex..<end])
            payload.moveReaderIndex(to: end + 1)
            return bytes
        }
        func text() throws(MilterError) -> String { String(decoding: try cString(), as: UTF8.self) }
        func integer() throws(MilterError) -> UInt32 {
            guard let value = payload.readInteger(as: UInt32.self) else {
                throw MilterError(.garbage, "reply '\(Self.printable(code))' too short for its index")
            }
            return value
        }
        func end(_ response: MilterResponse) throws(MilterError) -> MilterResponse {
            guard payload.readableBytes == 0 else {
                throw MilterError(.garbage, "reply '\(Self.printable(code))' with \(payload.readableBytes) octets left over")
            }
            return response
        }
        switch code {
        case UInt8(ascii: "O"):
            guard let version = payload.readInteger(as: UInt32.self), let actions = payload.readInteger(as: UInt32.self),
                let steps = payload.readInteger(as: UInt32.self)
            else { throw MilterError(.garbage, "option negotiation reply shorter than 12 octets") }
            // What follows (SMFIR_SETSYMLIST macro lists) is not used: every milter gets the same macros.
            self = .negotiate(version: version, actions: MilterActions(rawValue: actions), steps: MilterSteps(rawValue: steps))
        case UInt8(ascii: "c"): self = try noPayload(.continue)
        case UInt8(ascii: "a"): self = try noPayload(.accept)
        case UInt8(ascii: "r"): self = try noPayload(.reject)
        case UInt8(ascii: "t"): self = try noPayload(.tempfail)
        case UInt8(ascii: "d"): self = try noPayload(.discard)
        case UInt8(ascii: "s"): self = try noPayload(.skip)
        case UInt8(ascii: "4"): self = try noPayload(.shutdown)
        case UInt8(ascii: "f"): self = try noPayload(.connectionFailure)
        case UInt8(ascii: "p"): self = try noPayload(.progress)
        case UInt8(ascii: "y"): self = try end(.replyCode(try text()))
        case UInt8(ascii: "q"): self = try end(.quarantine(try text()))
        case UInt8(ascii: "h"): self = try end(.addHeader(name: try cString(), value: try cString()))
        case UInt8(ascii: "i"):
            self = try end(.insertHeader(index: try integer(), name: try cString(), value: try cString()))
        case UInt8(ascii: "m"):
            self = try end(.changeHeader(index: try integer(), name: try cString(), value: try cString()))
        case UInt8(ascii: "b"): self = .replaceBody(payload)
        case UInt8(ascii: "e"):
            let sender = try text()
            self = try end(.changeSender(sender, parameters: payload.readableBytes > 0 ? try text() : nil))
        case UInt8(ascii: "+"): self = try end(.addRecipient(try text(), parameters: nil))
        case UInt8(ascii: "2"):
            let recipient = try text()
            self = try end(.addRecipient(recipient, parameters: payload.readableBytes > 0 ? try text() : nil))
        case UInt8(ascii: "-"): self = try end(.deleteRecipient(try text()))
        default:
            throw MilterError(.garbage, "unknown reply '\(Self.printable(code))'")
        }
    }

    static func printable(_ code: UInt8) -> String {
        code >= 0x21 && code < 0x7F ? String(UnicodeScalar(code)) : "0x" + String(code, radix: 16)
    }
}
