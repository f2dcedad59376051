/// Protocol steps a milter asks the client to leave out (`SMFIP_NO*`), not to wait a reply for
/// (`SMFIP_NR_*`), and protocol extensions (`SMFIP_SKIP`, `SMFIP_HDR_LEADSPC`), negotiated in
/// `SMFIC_OPTNEG`.
public struct MilterSteps: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let noConnect = MilterSteps(rawValue: 0x1)
    public static let noHelo = MilterSteps(rawValue: 0x2)
    public static let noMail = MilterSteps(rawValue: 0x4)
    public static let noRecipient = MilterSteps(rawValue: 0x8)
    public static let noBody = MilterSteps(rawValue: 0x10)
    public static let noHeaders = MilterSteps(rawValue: 0x20)
    public static let noEndOfHeaders = MilterSteps(rawValue: 0x40)
    public static let noReplyHeader = MilterSteps(rawValue: 0x80)
    public static let noUnknown = MilterSteps(rawValue: 0x100)
    public static let noData = MilterSteps(rawValue: 0x200)
    /// The milter may answer a body chunk with `SMFIR_SKIP`: no more chunks.
    public static let skip = MilterSteps(rawValue: 0x400)
    /// The milter wants recipients the MTA rejected too (not offered: the proxy asks before forwarding).
    public static let rejectedRecipients = MilterSteps(rawValue: 0x800)
    public static let noReplyConnect = MilterSteps(rawValue: 0x1000)
    public static let noReplyHelo = MilterSteps(rawValue: 0x2000)
    public static let noReplyMail = MilterSteps(rawValue: 0x4000)
    public static let noReplyRecipient = MilterSteps(rawValue: 0x8000)
    public static let noReplyData = MilterSteps(rawValue: 0x10000)
    public static let noReplyUnknown = MilterSteps(rawValue: 0x20000)
    public static let noReplyEndOfHeaders = MilterSteps(rawValue: 0x40000)
    public static let noReplyBody = MilterSteps(rawValue: 0x80000)
    /// Header values are sent and taken with their leading space (no space eaten after the colon).
    public static let headerLeadingSpace = MilterSteps(rawValue: 0x100000)

    /// What this client can honour: every step and extension of protocol version 6 except
    /// `rejectedRecipients`.
    public static let offered = MilterSteps(rawValue: 0x1F_FFFF).subtracting(.rejectedRecipients)
}
