import Yams

/// Typed reading of YAML values, each reporting a located problem and returning nil when the
/// value is not what the key needs.
extension RuleFileParser {
    mutating func report(_ message: String, at node: Node) {
        problems.append(FilterError(file: path, line: node.mark?.line, column: node.mark?.column, message: message))
    }

    mutating func report(_ error: FilterError, at node: Node) {
        report(error.message, at: node)
    }

    func isNull(_ node: Node) -> Bool {
        node.scalar != nil && node.tag.rawValue == Tag.Name.null.rawValue
    }

    /// The entries of `mapping` whose keys are in `allowed`, in file order; every other key is
    /// reported, with a suggestion when it looks like a misspelling, or `misplaced(key)`.
    mutating func entries(
        of mapping: Node.Mapping, allowed: [String], in context: String,
        misplaced: (String) -> String? = { _ in nil }
    ) -> [Entry] {
        var result: [Entry] = []
        for (key, value) in mapping {
            guard let name = key.scalar?.string, !isNull(key) else {
                report("keys must be plain names", at: key)
                continue
            }
            if allowed.contains(name) {
                result.append(Entry(name: name, key: key, value: value))
            } else if let suggestion = KeySuggestion.closest(to: name, among: allowed) {
                report("unknown key '\(name)' \(context) (did you mean '\(suggestion)'?)", at: key)
            } else if let placement = misplaced(name) {
                report("unknown key '\(name)' \(context) (\(placement))", at: key)
            } else {
                report("unknown key '\(name)' \(context) (expected \(KeySuggestion.alternatives(allowed)))", at: key)
            }
        }
        return result
    }

    /// A mapping; nil without a problem for an empty value (`settings:` with nothing under it).
    mutating func mapping(_ node: Node, key: String, expecting keys: String) -> Node.Mapping? {
        if isNull(node) { return nil }
        guard let mapping = node.mapping else {
            report("'\(key)' must be a mapping (\(keys))", at: node)
            return nil
        }
        return mapping
    }

    /// A single scalar value.
    mutating func string(_ node: Node, key: String) -> String? {
        switch node {
        case .scalar(let scalar) where !isNull(node):
            return scalar.string
        case .scalar:
            report("'\(key)' has no value", at: node)
        case .sequence:
            report("'\(key)' must be a single value, not a list", at: node)
        case .mapping, .alias:
            report("'\(key)' must be a single value, not a mapping", at: node)
        }
        return nil
    }

    /// A single value or a non-empty list of values, each with its node.
    mutating func strings(_ node: Node, key: String) -> [(text: String, node: Node)]? {
        guard let sequence = node.sequence else {
            return string(node, key: key).map { [($0, node)] }
        }
        guard !sequence.isEmpty else {
            report("'\(key)' must not be an empty list", at: node)
            return nil
        }
        var values: [(text: String, node: Node)] = []
        for item in sequence {
            if let text = string(item, key: key) {
                values.append((text, item))
            }
        }
        return values.count == sequence.count ? values : nil
    }

    /// A whole number ≥ `minimum`; `_` may group digits (`52_428_800`).
    mutating func positiveInteger(_ node: Node, key: String, minimum: Int = 1, unit: String? = nil) -> Int? {
        guard let text = string(node, key: key) else { return nil }
        let digits = text.filter { $0 != "_" }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(digits),
            value >= minimum
        else {
            let unitText = unit.map { " (\($0))" } ?? ""
            let bound = minimum == 1 ? "a positive integer" : "an integer of at least \(minimum)"
            report("'\(key)' must be \(bound)\(unitText), not '\(text)'", at: node)
            return nil
        }
        return value
    }
}

extension RuleFileParser {
    /// One of `names`; anything else is reported with the closest name or the whole list:
    ///
    ///     unknown action 'rejct' (did you mean 'reject'?)
    ///     unknown count 'logins' (expected sessions, connections, … or refused-commands)
    mutating func oneOf(_ names: [String], _ node: Node, key: String, noun: String) -> String? {
        guard let text = string(node, key: key) else { return nil }
        if names.contains(text) { return text }
        let hint = KeySuggestion.closest(to: text, among: names).map { "did you mean '\($0)'?" }
        report("unknown \(noun) '\(text)' (\(hint ?? "expected \(KeySuggestion.alternatives(names, quoted: false))"))", at: node)
        return nil
    }

    /// `500ms`, `30s`, `10m` or `2h`: a whole number and a unit, at least `minimum`.
    mutating func duration(_ node: Node, key: String, minimum: Duration) -> Duration? {
        guard let text = string(node, key: key) else { return nil }
        let units: [(suffix: String, seconds: Int64, milliseconds: Int64)] = [
            ("ms", 0, 1), ("s", 1, 0), ("m", 60, 0), ("h", 3600, 0),
        ]
        for unit in units where text.hasSuffix(unit.suffix) {
            let digits = text.dropLast(unit.suffix.count)
            guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), digits.count <= 9,
                let value = Int64(digits)
            else { break }
            let duration = Duration.seconds(value * unit.seconds) + .milliseconds(value * unit.milliseconds)
            guard duration >= minimum else {
                report("'\(key)' must be at least \(minimum == .seconds(1) ? "1s" : "1ms"), not '\(text)'", at: node)
                return nil
            }
            return duration
        }
        report("'\(key)' must be a duration such as 500ms, 30s, 10m or 2h, not '\(text)'", at: node)
        return nil
    }
}
