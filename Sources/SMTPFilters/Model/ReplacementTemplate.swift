/// A rewrite rule's `replace:` text: literal text with references to the groups of the
/// `argument:` regex.
///
///     $1 … $9    group 1 … 9 ($0: the whole match)
///     ${12}      group 12
///     ${user}    the group named `user`: (?<user>…)
///     $$         a literal $
///
///     argument: '(?i)^FROM:<([^@>]+)@legacy\.example>'
///     replace:  'FROM:<$1@example.org>'
///
/// A group that did not take part in the match expands to nothing.
public struct ReplacementTemplate: Hashable, Sendable, CustomStringConvertible {
    enum Part: Hashable, Sendable {
        case literal(String)
        case group(Int)
        case namedGroup(String)
    }

    /// The template as written in the rule file.
    public let source: String
    let parts: [Part]

    public init(_ source: String) throws(FilterError) {
        self.source = source
        var parts: [Part] = []
        var literal = ""
        let scalars = Array(source.unicodeScalars)
        var index = 0
        func flush() {
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = ""
        }
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            guard scalar == "$" else {
                literal.unicodeScalars.append(scalar)
                continue
            }
            let next = index < scalars.count ? scalars[index] : nil
            if next == "$" {
                literal.append("$")
                index += 1
            } else if let next, ("0"..."9").contains(next) {
                flush()
                parts.append(.group(Int(next.value - 0x30)))
                index += 1
            } else if next == "{", let close = scalars[index...].firstIndex(of: "}") {
                let name = String(String.UnicodeScalarView(scalars[(index + 1)..<close]))
                flush()
                if let number = Int(name), name.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                    parts.append(.group(number))
                } else if Self.isGroupName(name) {
                    parts.append(.namedGroup(name))
                } else {
                    throw FilterError("invalid group reference '${\(name)}' in '\(source)' (a number or a name)")
                }
                index = close + 1
            } else {
                throw FilterError("'$' in '\(source)' must be followed by a group number, {name} or '$' (write '$$' for a literal '$')")
            }
        }
        flush()
        self.parts = parts
    }

    /// Why this template does not fit `pattern` (a group it lacks), or nil when it does.
    public func problem(with pattern: ArgumentPattern) -> String? {
        for part in parts {
            switch part {
            case .group(let number) where number > pattern.captureGroupCount:
                let groups = pattern.captureGroupCount == 1 ? "1 group" : "\(pattern.captureGroupCount) groups"
                return "'replace' refers to group \(number), but the 'argument' regex has \(groups)"
            case .namedGroup(let name) where !pattern.contains(captureNamed: name):
                return "'replace' refers to group '\(name)', but the 'argument' regex has no (?<\(name)>…)"
            default:
                continue
            }
        }
        return nil
    }

    public var description: String { source }

    func expand(_ match: Regex<AnyRegexOutput>.Match) -> String {
        var result = ""
        for part in parts {
            switch part {
            case .literal(let text):
                result += text
            case .group(let number):
                if number < match.output.count, let text = match.output[number].substring { result += text }
            case .namedGroup(let name):
                if let text = match.output[name]?.substring { result += text }
            }
        }
        return result
    }

    private static func isGroupName(_ name: String) -> Bool {
        let isWordScalar = { (scalar: Unicode.Scalar) in
            scalar == "_" || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
        }
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy(isWordScalar)
    }
}
