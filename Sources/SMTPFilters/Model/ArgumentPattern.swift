/// A rule's `argument:` regex, matched against the canonical text after the verb
/// (`FROM:<a@b> SIZE=10` for `mail from: a@b size=10`). It matches when it is found anywhere in
/// the argument: anchor it (`^…$`) to match the whole. Syntax: Swift `Regex` (PCRE-like; `(?i)`
/// for case-insensitive, `(?<name>…)` for named groups).
///
///     argument: '(?i)^FROM:<[^>]*@legacy\.example>'
///
/// A final class because `Regex` is not `Sendable`; it is safe to share: the compiled regex is
/// immutable (compiled eagerly in `init`) and holds no custom, stateful components.
public final class ArgumentPattern: @unchecked Sendable, CustomStringConvertible {
    /// The regex as written in the rule file.
    public let source: String
    private let regex: Regex<AnyRegexOutput>
    /// The number of capture groups, counted from the source; it may count too many in exotic
    /// patterns (never too few), which only lets a `$n` through that then expands to nothing.
    let captureGroupCount: Int

    public convenience init(_ source: String) throws(FilterError) {
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex(source)
        } catch {
            throw FilterError("invalid regex '\(source)': \(error)")
        }
        try self.init(source: source, regex: regex)
    }

    /// A pattern around an already built regex (tests give one with a component that fails).
    init(source: String, regex: Regex<AnyRegexOutput>) throws(FilterError) {
        self.regex = regex
        self.source = source
        captureGroupCount = Self.countCaptureGroups(in: source)
        // Compiles the regex now rather than on first use; a regex that fails on the empty text
        // is refused at load time.
        do {
            _ = try regex.firstMatch(in: "")
        } catch {
            throw FilterError("regex '\(source)' cannot be matched: \(error)")
        }
    }

    /// Whether the regex is found in `text`. Throws when matching itself fails (the caller must
    /// not take that for "no match": a reject rule would then fail open).
    public func matches(_ text: String) throws -> Bool {
        try firstMatch(in: text) != nil
    }

    /// `text` with the first match of the regex replaced by `template`, or nil when nothing matches.
    ///
    ///     ArgumentPattern("^FROM:<([^@]+)@old>").replacingFirstMatch(
    ///         in: "FROM:<bob@old> SIZE=10", with: ReplacementTemplate("FROM:<$1@new>"))
    ///     // "FROM:<bob@new> SIZE=10"
    public func replacingFirstMatch(in text: String, with template: ReplacementTemplate) throws -> String? {
        guard let match = try firstMatch(in: text) else { return nil }
        var result = text
        result.replaceSubrange(match.range, with: template.expand(match))
        return result
    }

    /// Whether the regex has a group `(?<name>…)`.
    public func contains(captureNamed name: String) -> Bool {
        regex.contains(captureNamed: name)
    }

    public var description: String { source }

    func firstMatch(in text: String) throws -> Regex<AnyRegexOutput>.Match? {
        try regex.firstMatch(in: text)
    }

    /// Counts `(` that open a capturing group: not escaped, not in a `[…]` class or `\Q…\E`, and
    /// not `(?…)` unless it is a named group (`(?<n>`, `(?P<n>`, `(?'n'`).
    static func countCaptureGroups(in pattern: String) -> Int {
        let scalars = Array(pattern.unicodeScalars)
        func at(_ index: Int) -> Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }
        var count = 0
        var classDepth = 0
        var index = 0
        while index < scalars.count {
            switch (scalars[index], classDepth) {
            case ("\\", _) where at(index + 1) == "Q":
                index += 2
                while index < scalars.count, !(scalars[index] == "\\" && at(index + 1) == "E") { index += 1 }
                index += 2
                continue
            case ("\\", _):
                index += 2
                continue
            case ("[", _):
                classDepth += 1
            case ("]", 1...):
                classDepth -= 1
            case ("(", 0) where at(index + 1) == "?":
                switch (at(index + 2), at(index + 3)) {
                case ("<", let next) where next != "=" && next != "!": count += 1
                case ("P", "<"), ("'", _): count += 1
                default: break
                }
            case ("(", 0) where at(index + 1) != "*":
                count += 1
            default:
                break
            }
            index += 1
        }
        return count
    }
}
