/// The modifications a milter may ask for (`SMFIF_*`), negotiated in `SMFIC_OPTNEG`: the client
/// offers what it can apply, the milter answers what it wants.
public struct MilterActions: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let addHeaders = MilterActions(rawValue: 0x01)
    public static let changeBody = MilterActions(rawValue: 0x02)
    public static let addRecipients = MilterActions(rawValue: 0x04)
    public static let deleteRecipients = MilterActions(rawValue: 0x08)
    public static let changeHeaders = MilterActions(rawValue: 0x10)
    public static let quarantine = MilterActions(rawValue: 0x20)
    public static let changeSender = MilterActions(rawValue: 0x40)
    public static let addRecipientsWithParameters = MilterActions(rawValue: 0x80)
    public static let setSymbolList = MilterActions(rawValue: 0x100)

    /// Everything this client applies (all but `setSymbolList`: every milter gets the same macros).
    public static let offered: MilterActions = [
        .addHeaders, .changeBody, .addRecipients, .deleteRecipients, .changeHeaders, .quarantine, .changeSender,
        .addRecipientsWithParameters,
    ]
}
