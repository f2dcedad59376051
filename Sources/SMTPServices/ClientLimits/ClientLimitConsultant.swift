import NIOCore
import SMTPCore
import SMTPFilters

/// The client limits of SPEC §10 as a `SessionConsultant`: `observe` counts what every session
/// does (sessions, AUTH failures, unknown recipients, …) in one process-wide `ClientLimitStore`;
/// `consult` compares the counts with the rules at the stages they guard and refuses, bans or
/// tarpits; `stages(for:)` asks the engine to stop only where a rule needs it (nowhere for an
/// exempt client or without limits).
///
///     let limits = ClientLimitConsultant(limits: ruleSet.clientLimits, dryRun: false)
///     // proxy and replay: consultants = [limits, …]; on SIGHUP: limits.reload(newRuleSet.clientLimits)
///     // (`ClientLimitConsultant.reusing(previousChain, for:dryRun:)` does both for `PolicyStore`)
///
/// Time is only ever the `at:` of a consult and the `ts` of the events (capture time in replay):
/// the store has no clock, so a replay of an attack reaches the same bans as the live proxy.
/// Verdicts are ready at once (`immediateVerdict`, or `makeSucceededFuture` for `consult`); a
/// tarpit is a `.delay` the driver waits on its event loop's scheduler.
public final class ClientLimitConsultant: SessionConsultant {
    public let store: ClientLimitStore
    /// `--dry-run`: hits are logged as `would-reject`, `would-ban`, `would-tarpit` and every
    /// verdict proceeds (bans are still recorded, so later sessions show `would-ban`).
    public let dryRun: Bool
    let sessions = ClientSessionRegistry()

    public init(limits: ClientLimits, dryRun: Bool = false) {
        store = ClientLimitStore(limits: limits)
        self.dryRun = dryRun
    }

    /// SIGHUP: the new rules take over; counters and bans of rules that keep their name stay.
    public func reload(_ limits: ClientLimits) {
        store.reload(limits)
    }

    /// The client-limit consultant of a (re)loaded rule set, for a consultant factory: the one of
    /// `previous` reloaded with `limits` (its counters carry over SIGHUP), a new one on the first
    /// load, and nil when the rule set has no limits (nothing to consult, nothing to count).
    ///
    ///     PolicyStore(paths: filters) { policy, previous in
    ///         [ClientLimitConsultant.reusing(previous, for: (policy as? RuleSet)?.clientLimits, dryRun: dryRun)].compactMap { $0 }
    ///     }
    public static func reusing(_ previous: ConsultantChain?, for limits: ClientLimits?, dryRun: Bool) -> ClientLimitConsultant? {
        guard let limits, !limits.isEmpty else { return nil }
        let existing = previous?.consultants.lazy.compactMap { $0 as? ClientLimitConsultant }.first { $0.dryRun == dryRun }
        guard let existing else { return ClientLimitConsultant(limits: limits, dryRun: dryRun) }
        existing.reload(limits)
        return existing
    }

    /// Keys tracked by the client-limit consultants of `chain` (`smtp_inspect_client_limit_keys`).
    public static func trackedKeys(in chain: ConsultantChain) -> Int {
        chain.consultants.reduce(0) { total, consultant in total + ((consultant as? ClientLimitConsultant)?.store.keyCount ?? 0) }
    }

    public func stages(for client: Endpoint) -> Set<ConsultStage> {
        let identity = ClientIdentity(host: client.host)
        let layout = store.layout(for: identity.address)
        if layout.limits.isEmpty || identity.isExempt(by: layout.limits) { return [] }
        return layout.stages
    }

    public func consult(_ request: ConsultRequest, at time: SMTPTimestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Verdict> {
        eventLoop.makeSucceededFuture(verdict(for: request, at: time))
    }

    public func immediateVerdict(for request: ConsultRequest, at time: SMTPTimestamp) -> Verdict? {
        verdict(for: request, at: time)
    }
}
