extension RuleSet {
    /// Loads rule files and directories, in the order given (see `CheckReport` for how a path is
    /// read). Throws every problem of every file, not only the first.
    ///
    ///     let rules = try RuleSet.load(paths: ["filters/"])
    public static func load(paths: [String]) throws(FilterError.List) -> RuleSet {
        let report = CheckReport(paths: paths)
        guard let ruleSet = report.ruleSet else { throw FilterError.List(report.problems) }
        return ruleSet
    }
}
