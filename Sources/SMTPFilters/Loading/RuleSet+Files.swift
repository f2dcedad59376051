import SMTPCore

extension RuleSet {
    /// Joins parsed files, in load order: their rules in sequence, their settings merged
    /// (`PolicySettings(merging:)`). Rule names must be unique across all files; each repeat is
    /// reported at its `name:` line.
    ///
    ///     filters/20-b.yaml:3: duplicate rule name 'no-vrfy' (first defined at filters/10-a.yaml:7)
    public init(files: [RuleFile]) throws(FilterError.List) {
        var names = RuleNameRegistry()
        let problems = files.flatMap { names.register($0.rules) }
        guard problems.isEmpty else { throw FilterError.List(problems) }
        self.init(rules: files.flatMap(\.rules), settings: PolicySettings(merging: files.map(\.settings)))
    }
}
