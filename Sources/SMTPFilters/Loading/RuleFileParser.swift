import SMTPCore
import Yams

/// Turns the YAML text of one rule file into a `RuleFile`, collecting every problem (not only the
/// first) with the line and column of the key or value at fault.
///
/// Yams composes the text into a `Node` tree whose `mark`s locate each key and value; the parser
/// then walks it strictly: unknown keys, wrong types and contradictory keys are all errors.
struct RuleFileParser {
    struct Result {
        var file: RuleFile
        /// Sorted by line.
        var problems: [FilterError]
        /// Entries of `rules:`, valid or not.
        var declaredRuleCount: Int
    }

    /// A key of a mapping and its value.
    struct Entry {
        var name: String
        var key: Node
        var value: Node
    }

    static let topLevelKeys = ["settings", "rules", "client-limits"]
    static let settingsKeys = [
        "banner", "limits", "bare-newline", "milters", "spool", "client-limits-track", "greet-pause", "pregreet",
    ]
    static let limitKeys = ["max-line-length", "max-recipients", "max-message-size"]
    static let ruleKeys = [
        "name", "command", "argument", "ehlo-keyword", "client", "reply-code", "action", "reply", "replace",
        "service", "timeout", "on-error",
    ]

    let path: String
    var problems: [FilterError] = []
    var settings = RuleFileSettings()
    var rules: [Rule] = []
    var clientLimits: [ClientLimitRule] = []
    var clientExemptions: [ClientExemption] = []
    var declaredRuleCount = 0

    static func parse(yaml: String, path: String) -> Result {
        var parser = RuleFileParser(path: path)
        do {
            if let root = try Yams.compose(yaml: yaml) {
                parser.parseRoot(root)
            }
        } catch {
            parser.problems.append(FilterError(yamlError: error, path: path, yaml: yaml))
        }
        let problems = parser.problems.enumerated().sorted {
            ($0.element.line ?? 0, $0.element.column ?? 0, $0.offset)
                < ($1.element.line ?? 0, $1.element.column ?? 0, $1.offset)
        }
        return Result(
            file: RuleFile(
                path: path, settings: parser.settings, rules: parser.rules, clientLimits: parser.clientLimits,
                clientExemptions: parser.clientExemptions),
            problems: problems.map(\.element),
            declaredRuleCount: parser.declaredRuleCount
        )
    }

    private mutating func parseRoot(_ root: Node) {
        if isNull(root) { return }  // `---` alone, or `~`
        guard let mapping = root.mapping else {
            report("a rule file must be a mapping with 'settings:' and/or 'rules:'", at: root)
            return
        }
        let misplaced = { (key: String) -> String? in
            if Self.ruleKeys.contains(key) { return "rules go in the 'rules:' list" }
            if Self.settingsKeys.contains(key) || Self.limitKeys.contains(key) { return "it belongs under 'settings:'" }
            if Self.clientLimitKeys.contains(key) { return "client limits go in the 'client-limits:' list" }
            return nil
        }
        for entry in entries(of: mapping, allowed: Self.topLevelKeys, in: "at the top level", misplaced: misplaced) {
            switch entry.name {
            case "settings": parseSettings(entry.value)
            case "client-limits": parseClientLimits(entry.value)
            default: parseRules(entry.value)
            }
        }
    }

    // MARK: - Settings

    private mutating func parseSettings(_ node: Node) {
        guard let mapping = mapping(node, key: "settings", expecting: "banner:, limits:, bare-newline:") else { return }
        let misplaced = { (key: String) in Self.limitKeys.contains(key) ? "it belongs under 'limits:'" : nil }
        for entry in entries(of: mapping, allowed: Self.settingsKeys, in: "in 'settings'", misplaced: misplaced) {
            switch entry.name {
            case "banner":
                settings.banner = banner(entry.value)
            case "limits":
                parseLimits(entry.value)
            case "milters":
                parseMilters(entry.value)
            case "spool":
                settings.spool = spoolDirectory(entry.value)
            case "client-limits-track", "greet-pause", "pregreet":
                parseClientLimitSetting(entry)
            default:
                guard let text = string(entry.value, key: entry.name) else { continue }
                if let policy = BareNewlinePolicy(rawValue: text) {
                    settings.bareNewline = policy
                } else {
                    let hint = KeySuggestion.hint(for: text, among: BareNewlinePolicy.allCases.map(\.rawValue))
                    report("'bare-newline' must be 'normalize' or 'reject', not '\(text)'\(hint)", at: entry.value)
                }
            }
        }
    }

    private mutating func parseLimits(_ node: Node) {
        let expected = Self.limitKeys.map { "\($0):" }.joined(separator: ", ")
        guard let mapping = mapping(node, key: "limits", expecting: expected) else { return }
        for entry in entries(of: mapping, allowed: Self.limitKeys, in: "in 'limits'") {
            switch entry.name {
            case "max-line-length":
                settings.maxLineLength = positiveInteger(
                    entry.value, key: entry.name, minimum: 64, unit: "octets, line end included")
            case "max-recipients":
                settings.maxRecipients = positiveInteger(entry.value, key: entry.name)
            default:
                settings.maxMessageSize = positiveInteger(entry.value, key: entry.name, unit: "octets")
            }
        }
    }

    /// One line of printable ASCII: it becomes the text of the `220` greeting.
    private mutating func banner(_ node: Node) -> String? {
        guard let text = string(node, key: "banner") else { return nil }
        if text.isEmpty {
            report("'banner' must not be empty", at: node)
        } else if text.contains(where: \.isNewline) {
            report("'banner' must be a single line (no CR or LF)", at: node)
        } else if !Self.isPrintableASCII(text) {
            report("'banner' must be printable ASCII (SMTP replies are ASCII)", at: node)
        } else {
            return text
        }
        return nil
    }

    // MARK: - Rules

    private mutating func parseRules(_ node: Node) {
        if isNull(node) { return }
        guard let sequence = node.sequence else {
            report("'rules' must be a list of rules, each starting with '- name:'", at: node)
            return
        }
        for item in sequence {
            parseRule(item)
        }
    }

    static func isPrintableASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }
}
