import SMTPCore
import SMTPServices

/// How captured sessions are run through the engine.
public struct ReplayOptions: Sendable {
    /// The rules (`RuleSet.load(paths:)`), or `NoRules()` for a pure audit.
    public var policy: any InspectionPolicy
    /// Terminal rule actions become `would-…` verdicts (`proxy --dry-run` semantics).
    public var dryRun: Bool
    public var tlsMode: TLSMode
    /// Out-of-order bytes buffered per direction before the oldest hole is declared a gap.
    public var reassemblyBufferLimit: Int
    /// The outside services sessions consult (client limits, policy services, milters), asked in
    /// capture time; empty: every consult proceeds.
    public var consultants: ConsultantChain = ConsultantChain()

    public init(policy: any InspectionPolicy = NoRules(), dryRun: Bool = false, tlsMode: TLSMode = .passthrough, reassemblyBufferLimit: Int = 4 << 20) {
        self.policy = policy
        self.dryRun = dryRun
        self.tlsMode = tlsMode
        self.reassemblyBufferLimit = reassemblyBufferLimit
    }
}
