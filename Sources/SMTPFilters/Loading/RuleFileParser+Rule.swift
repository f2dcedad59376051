import IPAddressing
import SMTPCore
import Yams

/// One entry of `rules:`: each key is read and checked, then the keys are checked together.
extension RuleFileParser {
    mutating func parseRule(_ node: Node) {
        declaredRuleCount += 1
        guard let mapping = node.mapping else {
            report("each rule must be a mapping with 'name:' and 'action:'", at: node)
            return
        }
        let problemsBefore = problems.count
        var fields: [String: Entry] = [:]
        let misplaced = { (key: String) in
            Self.clientLimitKeys.contains(key) ? "it belongs in a 'client-limits:' entry" : nil
        }
        for entry in entries(of: mapping, allowed: Self.ruleKeys, in: "in a rule", misplaced: misplaced) {
            fields[entry.name] = entry
        }

        let name = read(fields["name"]) { $0.ruleName($1) }
        if fields["name"] == nil {
            report("rule has no 'name'", at: node)
        }
        let action = read(fields["action"]) { $0.ruleAction($1) }
        if fields["action"] == nil {
            let actions = KeySuggestion.alternatives(RuleAction.allCases.map(\.rawValue), quoted: false)
            report("\(name.map { "rule '\($0)'" } ?? "rule") has no 'action' (\(actions))", at: node)
        }
        let command = read(fields["command"]) { $0.commandMatch($1) }
        let argument = read(fields["argument"]) { $0.argumentPattern($1) }
        let ehloKeywords = read(fields["ehlo-keyword"]) { $0.ehloKeywords($1) }
        let clients = read(fields["client"]) { $0.cidrs($1) }
        let replyCodes = read(fields["reply-code"]) { $0.replyCodes($1) }
        let reply = read(fields["reply"]) { $0.refusalReply($1) }
        let replace = read(fields["replace"]) { $0.replacement($1) }
        let service = read(fields["service"]) { $0.policyAddress($1) }
        let timeout = read(fields["timeout"]) { $0.policyTimeout($1) }
        let onError = read(fields["on-error"]) { $0.policyErrorMode($1) }

        if let action, let actionNode = fields["action"]?.value {
            checkKeys(fields, with: action, actionNode: actionNode)
            checkPolicyKeys(fields, with: action, actionNode: actionNode, command: command)
        }
        if let replace, let argument, let problem = replace.problem(with: argument), let node = fields["replace"] {
            report(problem, at: node.value)
        }

        guard problems.count == problemsBefore, let name, let action, let nameNode = fields["name"] else { return }
        rules.append(
            Rule(
                name: name,
                command: command ?? .any,
                argument: argument,
                ehloKeywords: ehloKeywords ?? [],
                clients: clients ?? [],
                replyCodes: replyCodes ?? [],
                action: action,
                reply: reply,
                replace: replace,
                location: RuleLocation(file: path, line: nameNode.key.mark?.line ?? 0),
                policy: service.map {
                    PolicyService(address: $0, timeout: timeout ?? PolicyService.defaultTimeout, onError: onError ?? .allow)
                }
            )
        )
    }

    /// `reader`'s value for a present key, nil for an absent one.
    private mutating func read<Value>(_ entry: Entry?, _ reader: (inout Self, Node) -> Value?) -> Value? {
        guard let entry else { return nil }
        return reader(&self, entry.value)
    }

    /// The keys that only make sense together, or only apart.
    private mutating func checkKeys(_ fields: [String: Entry], with action: RuleAction, actionNode: Node) {
        if let entry = fields["replace"], action != .rewrite {
            report("'replace' is only for action 'rewrite'", at: entry.key)
        }
        if let entry = fields["reply"], action != .reject, action != .disconnect {
            report("'reply' is only for actions 'reject' and 'disconnect'", at: entry.key)
        }
        if let entry = fields["reply-code"], action != .log {
            report("'reply-code' rules can only 'log' (server replies are audited, not changed)", at: entry.key)
        }
        if let entry = fields["ehlo-keyword"] {
            if action != .strip, action != .log {
                report("'ehlo-keyword' is only for actions 'strip' and 'log'", at: entry.key)
            }
            for other in ["command", "argument", "reply-code"] {
                if let otherEntry = fields[other] {
                    report("'\(other)' cannot be combined with 'ehlo-keyword' (keyword rules apply to EHLO replies)",
                           at: otherEntry.key)
                }
            }
        } else if action == .strip {
            report("action 'strip' needs 'ehlo-keyword' (the EHLO keywords to remove)", at: actionNode)
        }
        if fields["reply-code"] != nil, fields["ehlo-keyword"] == nil, let entry = fields["argument"] {
            report("'argument' cannot be combined with 'reply-code' (reply rules match code, command and client)",
                   at: entry.key)
        }
        if action == .rewrite, fields["argument"] == nil {
            report("action 'rewrite' needs 'argument' (the regex whose first match is replaced)", at: actionNode)
        }
        if action == .rewrite, fields["replace"] == nil {
            report("action 'rewrite' needs 'replace' (the text that replaces the match)", at: actionNode)
        }
    }

    // MARK: - Keys

    /// Letters, digits, `.`, `_` and `-`: names appear in logs and metrics.
    mutating func ruleName(_ node: Node) -> String? {
        guard let name = string(node, key: "name") else { return nil }
        let isNameByte = { (byte: UInt8) in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        guard !name.isEmpty, name.utf8.allSatisfy(isNameByte) else {
            report("rule name '\(name)' may only contain letters, digits, '.', '_' and '-'", at: node)
            return nil
        }
        return name
    }

    private mutating func ruleAction(_ node: Node) -> RuleAction? {
        oneOf(RuleAction.allCases.map(\.rawValue), node, key: "action", noun: "action").flatMap(RuleAction.init(rawValue:))
    }

    /// `VRFY`, `[VRFY, EXPN]` or `"*"`.
    private mutating func commandMatch(_ node: Node) -> CommandMatch? {
        guard let values = strings(node, key: "command") else { return nil }
        if values.count == 1, values[0].text == "*" { return .any }
        var verbs: Set<SMTPVerb> = []
        for (text, item) in values {
            if text == "*" {
                report("'*' (any command) cannot be listed with other verbs", at: item)
            } else if Self.isToken(text) {
                verbs.insert(SMTPVerb(text))
            } else {
                report("'\(text)' is not a command verb (letters, digits and '-', or \"*\" for any)", at: item)
            }
        }
        return verbs.count == values.count ? .verbs(verbs) : nil
    }

    private mutating func argumentPattern(_ node: Node) -> ArgumentPattern? {
        guard let text = string(node, key: "argument") else { return nil }
        guard !text.isEmpty else {
            report("'argument' must not be empty (leave it out to match any argument)", at: node)
            return nil
        }
        do {
            return try ArgumentPattern(text)
        } catch {
            report(error, at: node)
            return nil
        }
    }

    /// EHLO keywords (RFC 5321 §4.1.1.1: letters, digits and `-`), upper-cased.
    private mutating func ehloKeywords(_ node: Node) -> [String]? {
        guard let values = strings(node, key: "ehlo-keyword") else { return nil }
        var keywords: [String] = []
        for (text, item) in values {
            if Self.isToken(text) {
                keywords.append(text.uppercased())
            } else {
                report("'\(text)' is not an EHLO keyword (letters, digits and '-')", at: item)
            }
        }
        return keywords.count == values.count ? keywords : nil
    }

    mutating func cidrs(_ node: Node) -> [CIDR]? {
        guard let values = strings(node, key: "client") else { return nil }
        var blocks: [CIDR] = []
        for (text, item) in values {
            do {
                blocks.append(try CIDR(parsing: text))
            } catch {
                report(error.message, at: item)
            }
        }
        return blocks.count == values.count ? blocks : nil
    }

    private mutating func replyCodes(_ node: Node) -> [ReplyCodePattern]? {
        guard let values = strings(node, key: "reply-code") else { return nil }
        var patterns: [ReplyCodePattern] = []
        for (text, item) in values {
            do {
                patterns.append(try ReplyCodePattern(parsing: text))
            } catch {
                report(error, at: item)
            }
        }
        return patterns.count == values.count ? patterns : nil
    }

    /// `"502 5.5.1 text"`: one line of printable ASCII with a 4xx or 5xx code.
    mutating func refusalReply(_ node: Node) -> SMTPReply? {
        guard let text = string(node, key: "reply") else { return nil }
        guard Self.isPrintableASCII(text), let reply = SMTPReply(parsing: text) else {
            report("'reply' must be one line of printable ASCII: a code and text, e.g. \"550 5.7.1 Refused\"", at: node)
            return nil
        }
        guard reply.codeClass == 4 || reply.codeClass == 5 else {
            report("'reply' must have a 4xx or 5xx code (the command is refused), not \(reply.code)", at: node)
            return nil
        }
        return reply
    }

    private mutating func replacement(_ node: Node) -> ReplacementTemplate? {
        guard let text = string(node, key: "replace") else { return nil }
        do {
            return try ReplacementTemplate(text)
        } catch {
            report(error, at: node)
            return nil
        }
    }

    /// `[A-Za-z0-9][A-Za-z0-9-]*`: a verb or an EHLO keyword.
    private static func isToken(_ text: String) -> Bool {
        let isAlphanumeric = { (byte: UInt8) in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
        }
        guard let first = text.utf8.first, isAlphanumeric(first) else { return false }
        return text.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }
}
