import Logging
import NIOConcurrencyHelpers
import SMTPCore
import SMTPFilters
import SMTPServices

/// The rules in force and the outside services they consult. Each session takes the ones current
/// when it starts; `reload()` (SIGHUP) swaps them for new sessions and keeps the old ones when the
/// files are invalid.
public final class PolicyStore: Sendable {
    /// Makes the consultants of a rule set (client limits, policy services, milters); it gets the
    /// previous chain on reload so that state worth keeping (client-limit counters) carries over.
    public typealias ConsultantFactory = @Sendable (_ policy: any InspectionPolicy, _ previous: ConsultantChain?) -> [any SessionConsultant]

    /// What a session takes at its start.
    public struct Rules: Sendable {
        public var policy: any InspectionPolicy
        public var consultants: ConsultantChain
    }

    private let paths: [String]
    private let makeConsultants: ConsultantFactory
    private let current: NIOLockedValueBox<Rules>
    /// `--audit-failure tempfail`: the audit log whose failure refuses new transactions.
    private let auditGate = NIOLockedValueBox<OutputHealth?>(nil)

    /// Loads the rules once; throws the `file:line:` problems when they are invalid.
    public init(paths: [String], consultants: @escaping ConsultantFactory = { _, _ in [] }) throws {
        self.paths = paths
        makeConsultants = consultants
        let policy = try Self.load(paths)
        current = NIOLockedValueBox(Rules(policy: policy, consultants: ConsultantChain(consultants(policy, nil))))
    }

    public init(policy: any InspectionPolicy, consultants: [any SessionConsultant] = []) {
        paths = []
        makeConsultants = { _, _ in consultants }
        current = NIOLockedValueBox(Rules(policy: policy, consultants: ConsultantChain(consultants)))
    }

    public var policy: any InspectionPolicy {
        rules.policy
    }

    /// The rules a new session takes; behind `--audit-failure tempfail` its policy refuses new
    /// transactions while the audit log cannot be written (`AuditGatedPolicy`).
    public var rules: Rules {
        var rules = current.withLockedValue { $0 }
        if let gate = auditGate.withLockedValue({ $0 }) { rules.policy = AuditGatedPolicy(base: rules.policy, health: gate) }
        return rules
    }

    /// From now on, sessions refuse MAIL, DATA and BDAT with `451 4.3.0` while `health` fails.
    public func refuseTransactions(whileFailing health: OutputHealth) {
        auditGate.withLockedValue { $0 = health }
    }

    /// Re-reads the rule files. Returns the problems (and keeps the old rules) when invalid.
    @discardableResult
    public func reload(logger: Logger) -> [String] {
        do {
            let policy = try Self.load(paths)
            let previous = rules.consultants
            let consultants = ConsultantChain(makeConsultants(policy, previous))
            current.withLockedValue { $0 = Rules(policy: policy, consultants: consultants) }
            logger.notice("rules reloaded", metadata: ["paths": "\(paths)"])
            return []
        } catch {
            let problems = (error as? ProxyError).map { if case .invalidRules(let list) = $0 { list } else { ["\($0)"] } } ?? ["\(error)"]
            for problem in problems {
                logger.error("rules not reloaded, keeping the previous ones: \(problem)")
            }
            return problems
        }
    }

    private static func load(_ paths: [String]) throws -> any InspectionPolicy {
        guard !paths.isEmpty else { return NoRules() }
        do {
            return try RuleSet.load(paths: paths)
        } catch {
            throw ProxyError.invalidRules(error.problems.map(\.description))
        }
    }
}
