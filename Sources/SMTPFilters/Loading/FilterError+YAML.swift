import Yams

extension FilterError {
    /// A YAML syntax error from Yams, at the line libyaml reports.
    ///
    ///     filters/10-exchange.yaml:7: invalid YAML: mapping values are not allowed in this context
    init(yamlError: any Error, path: String, yaml: String) {
        guard let error = yamlError as? YamlError else {
            self.init(file: path, line: nil, message: "invalid YAML: \(yamlError)")
            return
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            // libyaml's context is either "while scanning …" (where it was) or the first half of
            // a sentence the problem ends ("expected a single document in the stream", "but …").
            let message =
                switch context {
                case .none: problem
                case .some(let context) where context.text.hasPrefix("while"):
                    "\(problem) (\(context.text) at line \(context.mark.line))"
                case .some(let context): "\(context.text), \(problem)"
                }
            self.init(file: path, line: mark.line, column: mark.column, message: "invalid YAML: \(message)")
        case .duplicatedKeysInMapping(let duplicates, _)
        where duplicates.contains(Self.nonScalarKey) || Set(duplicates).count < duplicates.count:
            // Yams sorts the duplicated keys to pick the one whose position it reports, by their
            // text only: a mapping or sequence used as a key does not compare with the others,
            // and two keys with the same text (`''` and `!''`) compare equal, so the pick (and the
            // line) changed from one parse to the next (found by the rule-loader fuzzer). Reported
            // without a line, the keys in a fixed order.
            var keys = Set(duplicates.filter { $0 != Self.nonScalarKey }).sorted().map { "'\($0)'" }
            if duplicates.contains(Self.nonScalarKey) { keys.append("a non-scalar key") }
            self.init(file: path, line: nil, message: "duplicate key \(keys.joined(separator: ", ")) in the same mapping")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let first = context.mark
            let repeated = duplicates.first.flatMap { Self.repetition(of: $0, after: first, in: yaml) }
                ?? (first.line, first.column)
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            let origin = repeated.line == first.line ? "" : " (first at line \(first.line))"
            self.init(file: path, line: repeated.line, column: repeated.column,
                      message: "duplicate key \(keys) in the same mapping\(origin)")
        case .reader(let problem, let offset, _, _):
            let line = offset.map { offset in 1 + yaml.prefix(offset).reduce(0) { $0 + ($1.isNewline ? 1 : 0) } }
            self.init(file: path, line: line, message: "invalid YAML: \(problem)")
        default:
            self.init(file: path, line: nil, message: "invalid YAML: \(error)")
        }
    }

    /// What Yams names a duplicated key that is not a scalar.
    private static let nonScalarKey = "<uncovertable>"

    /// Yams reports a duplicate key at its first occurrence; an editor is better sent to the
    /// repetition. In block style it is the next line of the same mapping (same column) that
    /// starts with the key; nil when it cannot be found (flow style), so the first is used.
    private static func repetition(of key: String, after first: Mark, in yaml: String) -> (line: Int, column: Int)? {
        let lines = yaml.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        let indent = first.column - 1
        for index in first.line..<lines.count {
            let line = lines[index]
            let leading = line.prefix { $0 == " " }.count
            let content = line.drop { $0 == " " }
            if content.isEmpty || content.hasPrefix("#") { continue }
            if leading < indent { return nil }  // the mapping ended
            guard leading == indent else { continue }
            for spelling in [key, "\"\(key)\"", "'\(key)'"] where content.hasPrefix(spelling) {
                if content.dropFirst(spelling.count).drop(while: { $0 == " " }).hasPrefix(":") {
                    return (index + 1, first.column)
                }
            }
        }
        return nil
    }
}
