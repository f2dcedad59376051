import Foundation

/// A systemd unit file and its `EnvironmentFile`, read the way systemd reads them, as far as the
/// tests need: `Key=value` lines (a trailing `\` continues a line), repeated keys kept in order,
/// and `ExecStart=` expanded into an argument vector (systemd.service(5) "Command lines":
/// `${VAR}` is one argument, `$VAR` splits into words, an empty `$VAR` disappears).
struct SystemdUnit {
    /// Section → key → values in file order.
    private(set) var sections: [String: [String: [String]]] = [:]

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var section = ""
        var pending = ""
        for rawLine in text.components(separatedBy: "\n") {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if pending.isEmpty && (line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";")) { continue }
            if line.hasSuffix("\\") {
                pending += line.dropLast() + " "
                continue
            }
            let full = pending + line
            pending = ""
            if full.hasPrefix("[") && full.hasSuffix("]") {
                section = String(full.dropFirst().dropLast())
                continue
            }
            guard let equals = full.firstIndex(of: "=") else { continue }
            let key = full[..<equals].trimmingCharacters(in: .whitespaces)
            let value = full[full.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            sections[section, default: [:]][key, default: []].append(value)
        }
    }

    func values(_ section: String, _ key: String) -> [String] { sections[section]?[key] ?? [] }

    func value(_ section: String, _ key: String) -> String? { values(section, key).last }

    /// `KEY=value` lines of an environment file (comments and blank lines skipped).
    static func environmentFile(_ path: String) throws -> [String: String] {
        var environment: [String: String] = [:]
        for line in try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") else { continue }
            environment[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
        }
        return environment
    }

    struct UndefinedVariable: Error, CustomStringConvertible {
        var name: String
        var description: String { "ExecStart uses $\(name), which is not set" }
    }

    /// `command` split into arguments with `environment` substituted; an unset variable throws.
    static func expand(_ command: String, environment: [String: String]) throws -> [String] {
        var arguments: [String] = []
        for word in command.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            if word.hasPrefix("$") && !word.hasPrefix("${") {
                let name = String(word.dropFirst())
                guard let value = environment[name] else { throw UndefinedVariable(name: name) }
                arguments += value.split(separator: " ").map(String.init)
                continue
            }
            var argument = ""
            var rest = word[...]
            while let start = rest.range(of: "${") {
                argument += rest[..<start.lowerBound]
                guard let end = rest[start.upperBound...].firstIndex(of: "}") else { break }
                let name = String(rest[start.upperBound..<end])
                guard let value = environment[name] else { throw UndefinedVariable(name: name) }
                argument += value
                rest = rest[rest.index(after: end)...]
            }
            arguments.append(argument + rest)
        }
        return arguments
    }
}
