/// The envelope changes milters asked for at end of message, for the driver to apply before it
/// forwards the message (addresses without `<>`).
public struct MilterEnvelopeChanges: Hashable, Sendable {
    public struct Recipient: Hashable, Sendable {
        public var address: String
        /// ESMTP parameters for `RCPT TO:` (`SMFIR_ADDRCPT_PAR`), nil when none.
        public var parameters: String?
    }

    /// A new reverse path (`SMFIR_CHGFROM`), nil when unchanged.
    public var sender: String?
    /// ESMTP parameters for the new `MAIL FROM:`.
    public var senderParameters: String?
    /// Recipients to add, in order.
    public var addedRecipients: [Recipient] = []
    /// Recipients to remove (compared case-insensitively).
    public var deletedRecipients: [String] = []

    public init() {}

    public var isEmpty: Bool { sender == nil && addedRecipients.isEmpty && deletedRecipients.isEmpty }

    /// Takes one milter's envelope modifications, in the order it sent them.
    mutating func apply(_ responses: [MilterResponse]) {
        for response in responses {
            switch response {
            case .changeSender(let address, let parameters):
                sender = Self.bare(address)
                senderParameters = parameters.flatMap { $0.isEmpty ? nil : $0 }
            case .addRecipient(let address, let parameters):
                let address = Self.bare(address)
                deletedRecipients.removeAll { $0.lowercased() == address.lowercased() }
                addedRecipients.append(Recipient(address: address, parameters: parameters.flatMap { $0.isEmpty ? nil : $0 }))
            case .deleteRecipient(let address):
                let address = Self.bare(address)
                addedRecipients.removeAll { $0.address.lowercased() == address.lowercased() }
                deletedRecipients.append(address)
            default:
                continue
            }
        }
    }

    /// The recipients of a transaction after these changes: deleted ones removed, added ones appended.
    public func recipients(from original: [String]) -> [String] {
        let deleted = Set(deletedRecipients.map { $0.lowercased() })
        var result = original.filter { !deleted.contains($0.lowercased()) }
        for recipient in addedRecipients where !result.contains(where: { $0.lowercased() == recipient.address.lowercased() }) {
            result.append(recipient.address)
        }
        return result
    }

    static func bare(_ address: String) -> String {
        var text = Substring(address).drop { $0 == " " }
        if text.hasPrefix("<"), let close = text.lastIndex(of: ">") { text = text[text.index(after: text.startIndex)..<close] }
        return String(text)
    }
}
