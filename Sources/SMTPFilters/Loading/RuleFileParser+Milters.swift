import Yams

/// `settings.milters:` and `settings.spool:` (SPEC §12).
extension RuleFileParser {
    static let milterKeys = ["name", "socket", "timeout", "on-error"]

    mutating func parseMilters(_ node: Node) {
        if isNull(node) { return }
        guard let sequence = node.sequence else {
            report("'milters' must be a list of milters, each starting with '- name:'", at: node)
            return
        }
        var milters: [MilterSettings] = []
        var lines: [String: Int] = [:]
        for item in sequence {
            guard let milter = parseMilter(item) else { continue }
            if let first = lines[milter.name] {
                report("duplicate milter name '\(milter.name)' (first defined at line \(first))", at: item)
                continue
            }
            lines[milter.name] = milter.location.line
            milters.append(milter)
        }
        settings.milters = (settings.milters ?? []) + milters
    }

    private mutating func parseMilter(_ node: Node) -> MilterSettings? {
        guard let mapping = node.mapping else {
            report("each milter must be a mapping with 'name:' and 'socket:'", at: node)
            return nil
        }
        let problemsBefore = problems.count
        var name: String?
        var nameLine = node.mark?.line ?? 0
        var socket: MilterSettings.Socket?
        var timeout = MilterSettings.defaultTimeout
        var onError = MilterSettings.OnError.tempfail
        for entry in entries(of: mapping, allowed: Self.milterKeys, in: "in a milter") {
            guard let text = string(entry.value, key: entry.name) else { continue }
            switch entry.name {
            case "name":
                if text.isEmpty || !Self.isPrintableASCII(text) || text.contains(" ") {
                    report("milter 'name' must be printable ASCII without spaces, not '\(text)'", at: entry.value)
                } else {
                    name = text
                    nameLine = entry.key.mark?.line ?? nameLine
                }
            case "socket":
                do throws(FilterError) {
                    socket = try MilterSettings.Socket(parsing: text)
                } catch {
                    report(error, at: entry.value)
                }
            case "timeout":
                if let value = Self.duration(text), value > .zero, value <= .seconds(3600) {
                    timeout = value
                } else {
                    report("'timeout' must be a duration from 1ms to 1h such as '30s', '500ms' or '2m', not '\(text)'", at: entry.value)
                }
            default:
                if let value = MilterSettings.OnError(rawValue: text) {
                    onError = value
                } else {
                    let hint = KeySuggestion.hint(for: text, among: MilterSettings.OnError.allCases.map(\.rawValue))
                    report("'on-error' must be 'accept', 'tempfail' or 'reject', not '\(text)'\(hint)", at: entry.value)
                }
            }
        }
        if name == nil, !mapping.contains(where: { $0.key.scalar?.string == "name" }) {
            report("milter has no 'name'", at: node)
        }
        if socket == nil, !mapping.contains(where: { $0.key.scalar?.string == "socket" }) {
            report("milter \(name.map { "'\($0)' " } ?? "")has no 'socket' (inet:HOST:PORT or unix:PATH)", at: node)
        }
        guard problems.count == problemsBefore, let name, let socket else { return nil }
        return MilterSettings(
            name: name, socket: socket, timeout: timeout, onError: onError,
            location: RuleLocation(file: path, line: nameLine))
    }

    mutating func spoolDirectory(_ node: Node) -> String? {
        guard let text = string(node, key: "spool") else { return nil }
        guard text.hasPrefix("/") else {
            report("'spool' must be an absolute directory path, not '\(text)'", at: node)
            return nil
        }
        return text
    }

    /// `30s`, `500ms`, `2m`, `1h`, or a number of seconds.
    static func duration(_ text: String) -> Duration? {
        let units: [(suffix: String, scale: Duration)] = [("ms", .milliseconds(1)), ("s", .seconds(1)), ("m", .seconds(60)), ("h", .seconds(3600))]
        for unit in units where text.hasSuffix(unit.suffix) {
            guard let value = Int(text.dropLast(unit.suffix.count)), value >= 0 else { return nil }
            return unit.scale * value
        }
        return Int(text).map { .seconds($0) }
    }
}
