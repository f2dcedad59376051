import SMTPCore

extension RuleSet {
    /// Joins parsed files, in load order: their rules in sequence, their settings merged
    /// (`PolicySettings(merging:)`, `ClientLimits(merging:)`). Rule names (and client-limit names) must be unique across all files; each repeat is
    /// reported at its `name:` line.
    ///
    ///     filters/20-b.yaml:3: duplicate rule name 'no-vrfy' (first defined at filters/10-a.yaml:7)
    public init(files: [RuleFile]) throws(FilterError.List) {
        var names = RuleNameRegistry()
        var problems = files.flatMap { names.register($0.rules) + names.register(limitsOf: $0) }
        let milters = files.flatMap { $0.settings.milters ?? [] }
        for (index, milter) in milters.enumerated() {
            if let first = milters[..<index].first(where: { $0.name == milter.name }) {
                problems.append(FilterError(
                    file: milter.location.file, line: milter.location.line,
                    message: "duplicate milter name '\(milter.name)' (first defined at \(first.location))"))
            }
        }
        guard problems.isEmpty else { throw FilterError.List(problems) }
        var settings = PolicySettings(merging: files.map(\.settings))
        // `greet-pause` and `pregreet` are the engine's to carry out: it watches for talk before
        // the greeting only where a file asks for either.
        let limits = ClientLimits(merging: files)
        settings.greetPause = limits.greetPause
        let watches = files.contains { $0.settings.greetPause != nil || $0.settings.pregreet != nil }
        settings.pregreet = watches ? limits.pregreet : nil
        self.init(rules: files.flatMap(\.rules), settings: settings)
        self.milters = milters
        spool = files.last { $0.settings.spool != nil }?.settings.spool
        clientLimits = limits
    }
}
