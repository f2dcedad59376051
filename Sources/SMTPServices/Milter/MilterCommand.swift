import NIOCore

/// What the client sends a milter (`SMFIC_*`), as Postfix's milter8 sends it.
/// SeeAlso: Sendmail's libmilter `mfdef.h`; Postfix `src/milter/milter8.c`.
public enum MilterCommand: Hashable, Sendable {
    /// `O`: protocol version, the actions and the protocol steps the client offers.
    case negotiate(version: UInt32, actions: MilterActions, steps: MilterSteps)
    /// `D`: macros for the command `stage` (a command byte), sent just before it.
    case macros(stage: UInt8, [(name: String, value: String)])
    /// `C`: host name, family (`4`, `6`, `L`, `U`), port, address.
    case connect(hostname: String, family: UInt8, port: UInt16, address: String)
    /// `H`: the HELO/EHLO argument.
    case helo(String)
    /// `M`: `<sender>` then each ESMTP parameter.
    case mail([String])
    /// `R`: `<recipient>` then each ESMTP parameter.
    case recipient([String])
    /// `T`: the DATA command.
    case data
    /// `L`: one header field, name and value (bytes as in the message).
    case header(name: [UInt8], value: [UInt8])
    /// `N`: end of headers.
    case endOfHeaders
    /// `B`: a chunk of the body (CRLF line ends, at most 64 KiB).
    case body(ByteBuffer)
    /// `E`: end of message; the milter answers with its modifications, then its verdict.
    case endOfMessage
    /// `A`: the transaction ended without end of message (RSET, a new MAIL); no reply.
    case abort
    /// `Q`: the session ended; no reply.
    case quit

    public static func == (lhs: MilterCommand, rhs: MilterCommand) -> Bool { lhs.packet == rhs.packet }
    public func hash(into hasher: inout Hasher) { hasher.combine(packet) }

    public static let bodyChunkSize = 65_535

    /// The command byte.
    public var code: UInt8 {
        switch self {
        case .negotiate: UInt8(ascii: "O")
        case .macros: UInt8(ascii: "D")
        case .connect: UInt8(ascii: "C")
        case .helo: UInt8(ascii: "H")
        case .mail: UInt8(ascii: "M")
        case .recipient: UInt8(ascii: "R")
        case .data: UInt8(ascii: "T")
        case .header: UInt8(ascii: "L")
        case .endOfHeaders: UInt8(ascii: "N")
        case .body: UInt8(ascii: "B")
        case .endOfMessage: UInt8(ascii: "E")
        case .abort: UInt8(ascii: "A")
        case .quit: UInt8(ascii: "Q")
        }
    }

    public var packet: MilterPacket {
        var payload = ByteBuffer()
        func cString(_ text: String) {
            payload.writeString(text)
            payload.writeInteger(UInt8(0))
        }
        func cBytes(_ bytes: [UInt8]) {
            payload.writeBytes(bytes)
            payload.writeInteger(UInt8(0))
        }
        switch self {
        case .negotiate(let version, let actions, let steps):
            payload.writeInteger(version)
            payload.writeInteger(actions.rawValue)
            payload.writeInteger(steps.rawValue)
        case .macros(let stage, let pairs):
            payload.writeInteger(stage)
            for pair in pairs {
                cString(pair.name)
                cString(pair.value)
            }
        case .connect(let hostname, let family, let port, let address):
            cString(hostname)
            payload.writeInteger(family)
            if family != UInt8(ascii: "U") {
                payload.writeInteger(port)
                cString(address)
            }
        case .helo(let name):
            cString(name)
        case .mail(let arguments), .recipient(let arguments):
            arguments.forEach(cString)
        case .header(let name, let value):
            cBytes(name)
            cBytes(value)
        case .body(let chunk):
            var chunk = chunk
            payload.writeBuffer(&chunk)
        case .data, .endOfHeaders, .endOfMessage, .abort, .quit:
            break
        }
        return MilterPacket(command: code, payload: payload)
    }
}
