import Logging
import NIOConcurrencyHelpers
import SMTPCore
import SMTPFilters

/// The rules in force. Each session takes the rules current when it starts; `reload()` (SIGHUP)
/// swaps them for new sessions and keeps the old ones when the files are invalid.
public final class PolicyStore: Sendable {
    private let paths: [String]
    private let current: NIOLockedValueBox<any InspectionPolicy>

    /// Loads the rules once; throws the `file:line:` problems when they are invalid.
    public init(paths: [String]) throws {
        self.paths = paths
        current = NIOLockedValueBox(try Self.load(paths))
    }

    public init(policy: any InspectionPolicy) {
        paths = []
        current = NIOLockedValueBox(policy)
    }

    public var policy: any InspectionPolicy {
        current.withLockedValue { $0 }
    }

    /// Re-reads the rule files. Returns the problems (and keeps the old rules) when invalid.
    @discardableResult
    public func reload(logger: Logger) -> [String] {
        do {
            let policy = try Self.load(paths)
            current.withLockedValue { $0 = policy }
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
