import SMTPCore
import SMTPFilters

/// Shared helpers: rule sets from YAML text, and clients.
enum Fixtures {
    /// A rule set from one in-memory rule file named `test.yaml`.
    static func ruleSet(_ yaml: String) throws(FilterError.List) -> RuleSet {
        try RuleSet(files: [RuleFile(parsing: yaml, path: "test.yaml")])
    }

    /// The problems of one in-memory rule file named `test.yaml`, as `file:line: message`.
    static func problems(_ yaml: String) -> [String] {
        do {
            _ = try ruleSet(yaml)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    static func client(_ host: String = "192.0.2.1") -> Endpoint {
        Endpoint(host: host, port: 50_000)
    }

    static func command(_ verb: String, _ argument: String = "") -> SMTPCommand {
        SMTPCommand(verb: SMTPVerb(verb), argument: argument)
    }
}
