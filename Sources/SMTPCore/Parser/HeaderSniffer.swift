/// Picks the `Message-ID` and `Subject` values out of a message as it streams past, without
/// buffering it: it looks at the header section only (up to the first empty line), keeps at most
/// `SMTPDefaults.maximumHeaderValueLength` octets per value and reads at most
/// `SMTPDefaults.maximumHeaderSectionLength` octets, and unfolds continuation lines.
/// After the header section it costs nothing (`isDone`). SeeAlso: RFC 5322 §2.2, §2.2.3.
public struct HeaderSniffer: Sendable {
    public private(set) var messageID: String?
    public private(set) var subject: String?
    public private(set) var isDone = false

    private enum Target { case messageID, subject }
    private enum State {
        case lineStart
        case name
        case value(Target)
        case skipLine
    }

    private var state = State.lineStart
    private var fed = 0
    private var name: [UInt8] = []
    private var value: [UInt8] = []
    /// The header whose value may continue on the next (folded) line.
    private var open: Target?

    public init() {}

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        fed += bytes.count
        if fed > SMTPDefaults.maximumHeaderSectionLength {
            // No end of the header section in sight: stop looking (and costing) here.
            finishMessage()
            return
        }
        var index = 0
        while index < bytes.count, !isDone {
            let byte = bytes[index]
            index += 1
            if byte == SMTPGrammar.cr { continue }
            switch state {
            case .lineStart:
                if byte == SMTPGrammar.lf {
                    finish()
                    isDone = true
                } else if SMTPGrammar.isWSP(byte), let target = open {
                    if value.count < SMTPDefaults.maximumHeaderValueLength { value.append(byte) }
                    state = .value(target)
                } else {
                    finish()
                    name.removeAll(keepingCapacity: true)
                    name.append(byte)
                    state = .name
                }
            case .name:
                if byte == UInt8(ascii: ":") {
                    switch Self.lowercased(name) {
                    case Array("message-id".utf8): start(.messageID)
                    case Array("subject".utf8): start(.subject)
                    default: state = .skipLine
                    }
                } else if byte == SMTPGrammar.lf {
                    state = .lineStart
                } else if name.count < 64 {
                    name.append(byte)
                } else {
                    state = .skipLine
                }
            case .value(let target):
                if byte == SMTPGrammar.lf {
                    open = target
                    state = .lineStart
                } else if value.isEmpty && SMTPGrammar.isWSP(byte) {
                    continue
                } else if value.count < SMTPDefaults.maximumHeaderValueLength {
                    value.append(byte)
                }
            case .skipLine:
                if byte == SMTPGrammar.lf { state = .lineStart }
            }
        }
    }

    /// Call at the end of the message (a message without a body or blank line).
    public mutating func finishMessage() {
        if !isDone {
            finish()
            isDone = true
        }
    }

    private mutating func start(_ target: Target) {
        value.removeAll(keepingCapacity: true)
        open = target
        state = .value(target)
    }

    private mutating func finish() {
        guard let target = open else { return }
        open = nil
        var bytes = value[...]
        while let first = bytes.first, SMTPGrammar.isWSP(first) { bytes = bytes.dropFirst() }
        while let last = bytes.last, SMTPGrammar.isWSP(last) { bytes = bytes.dropLast() }
        let trimmed = String(decoding: bytes, as: UTF8.self)
        switch target {
        case .messageID: if messageID == nil { messageID = trimmed }
        case .subject: if subject == nil { subject = trimmed }
        }
    }

    private static func lowercased(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
    }
}
