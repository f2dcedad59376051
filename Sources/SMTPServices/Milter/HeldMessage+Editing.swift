import NIOCore

extension HeldMessage {
    /// Applies one milter's header and body modifications, in the order it sent them, addressing
    /// headers as milters do (SeeAlso: libmilter `smfi_chgheader`, `smfi_insheader`; Postfix
    /// `cleanup_milter.c`):
    /// - `addHeader`: appended after the last field;
    /// - `insertHeader(index)`: before the field at 0-based `index` (0: the top; past the end:
    ///   appended);
    /// - `changeHeader(index, name, value)`: the `index`-th (from 1; 0 counts as 1) field called
    ///   `name`, case-insensitively; an empty value deletes it; a missing one is appended;
    /// - `replaceBody`: the pieces of one answer make the new body (bare LF become CRLF); a later
    ///   milter's replacement replaces an earlier one.
    /// Envelope changes, progress and quarantine are not the message's and are ignored here.
    public mutating func apply(_ responses: [MilterResponse], leadingSpace: Bool) throws(MessageSpool.Failure) {
        var newBody: MessageSpool?
        var pendingCR = false
        for response in responses {
            switch response {
            case .addHeader(let name, let value):
                headers.append(MessageHeaderField(name: name, value: value, leadingSpace: leadingSpace))
            case .insertHeader(let index, let name, let value):
                let position = min(Int(index), headers.count)
                headers.insert(MessageHeaderField(name: name, value: value, leadingSpace: leadingSpace), at: position)
            case .changeHeader(let index, let name, let value):
                let wanted = max(Int(index), 1)
                let matches = headers.indices.filter { headers[$0].isNamed(name) }
                if wanted <= matches.count {
                    let position = matches[wanted - 1]
                    if value.isEmpty {
                        headers.remove(at: position)
                    } else {
                        headers[position] = MessageHeaderField(name: name, value: value, leadingSpace: leadingSpace)
                    }
                } else if !value.isEmpty {
                    headers.append(MessageHeaderField(name: name, value: value, leadingSpace: leadingSpace))
                }
            case .replaceBody(let piece):
                if newBody == nil {
                    newBody = MessageSpool(directory: original.directory, maximumSize: original.maximumSize)
                }
                try newBody!.append(Self.crlf(piece, pendingCR: &pendingCR))
            default:
                continue
            }
            isModified = true
        }
        if pendingCR { try newBody?.append(ByteBuffer(bytes: [UInt8(ascii: "\r")])) }
        if let newBody {
            replacementBody?.remove()
            replacementBody = newBody
        }
    }

    /// `piece` with every LF not preceded by CR turned into CRLF (a CR at the end of a piece is
    /// held back until the next piece shows whether an LF follows).
    static func crlf(_ piece: ByteBuffer, pendingCR: inout Bool) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(piece.readableBytes + 2)
        var previousCR = pendingCR
        if pendingCR { out.writeInteger(UInt8(ascii: "\r")) }
        pendingCR = false
        let view = piece.readableBytesView
        for (offset, byte) in view.enumerated() {
            if byte == UInt8(ascii: "\n") && !previousCR { out.writeInteger(UInt8(ascii: "\r")) }
            if byte == UInt8(ascii: "\r") && offset == view.count - 1 {
                pendingCR = true
                previousCR = true
                continue
            }
            out.writeInteger(byte)
            previousCR = byte == UInt8(ascii: "\r")
        }
        return out
    }
}
