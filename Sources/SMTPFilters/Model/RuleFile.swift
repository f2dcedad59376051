/// One parsed rule file: its settings and rules, in file order.
///
///     let file = try RuleFile(parsing: yamlText, path: "filters/10-exchange.yaml")
///
/// `RuleSet(files:)` joins several; `RuleSet.load(paths:)` reads them from disk.
public struct RuleFile: Sendable {
    /// The path as given (directory + file name), used in messages.
    public var path: String
    public var settings: RuleFileSettings
    public var rules: [Rule]
    /// `client-limits:` (SPEC §10): the counting entries and the `exempt` ones, in file order.
    public var clientLimits: [ClientLimitRule]
    public var clientExemptions: [ClientExemption]

    public init(
        path: String, settings: RuleFileSettings = RuleFileSettings(), rules: [Rule] = [],
        clientLimits: [ClientLimitRule] = [], clientExemptions: [ClientExemption] = []
    ) {
        self.path = path
        self.settings = settings
        self.rules = rules
        self.clientLimits = clientLimits
        self.clientExemptions = clientExemptions
    }

    /// Parses and validates YAML text. An empty file, or one with only comments, has no rules.
    /// Throws every problem found, each as `path:line: message`.
    public init(parsing yaml: String, path: String) throws(FilterError.List) {
        let parsed = RuleFileParser.parse(yaml: yaml, path: path)
        guard parsed.problems.isEmpty else { throw FilterError.List(parsed.problems) }
        self = parsed.file
    }
}
