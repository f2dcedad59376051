import SMTPCore
import SMTPFilters
import SMTPServices

/// The outside services a rule set asks (SPEC §10–§12), made for the proxy at start and on every
/// reload (`PolicyStore`'s factory), reporting to the proxy's metrics.
public enum ProxyConsultants {
    public static func factory(metrics: ProxyMetrics?, dryRun: Bool) -> PolicyStore.ConsultantFactory {
        // One policy client for every reload: its connections to the servers are kept.
        let policyClient = PolicyClient()
        return { policy, previous in
            guard let rules = policy as? RuleSet else { return [] }
            var consultants: [any SessionConsultant] = []
            // Client limits first: a banned or over-limit client is refused before anything else
            // is asked. The same consultant carries over a reload, with its counters.
            if let limits = ClientLimitConsultant.reusing(previous, for: rules.clientLimits, dryRun: dryRun) {
                consultants.append(limits)
            }
            // Then policy servers: Postfix applies its restrictions before a milter sees the command.
            consultants += PolicyConsultant.consultants(for: rules, client: policyClient, observer: metrics)
            if let milters = MilterConsultant(rules: rules, observer: metrics) {
                // Spool files a crashed run left behind go at start (once: not on reloads).
                if previous == nil { milters.removeSpoolLeftovers() }
                consultants.append(milters)
            }
            return consultants
        }
    }
}
