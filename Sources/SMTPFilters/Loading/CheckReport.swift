import Foundation
import SMTPCore

/// The outcome of validating rule paths: what `smtp-inspect check` prints, and what
/// `RuleSet.load(paths:)` builds on.
///
///     let report = CheckReport(paths: ["filters/"])
///     report.problems      // [] — or each `file:line: message`
///     report.summary       // "filters/: 3 files, 11 rules, OK"
///     report.ruleSet       // the loaded RuleSet when valid
///
/// Each path is a file, or a directory whose `*.yaml` and `*.yml` files are read in name order
/// (byte order, not recursive; names starting with `.` are skipped). Every file is read and
/// checked, so one run reports all problems. A path that does not exist or cannot be read is a
/// problem of its own (`path: message`, no line).
public struct CheckReport: Sendable {
    /// The paths as given.
    public let paths: [String]
    /// The rule files found, in load order.
    public let files: [String]
    /// The entries of all `rules:` lists, valid or not.
    public let ruleCount: Int
    /// Every problem, in load order (path by path, file by file, line by line).
    public let problems: [FilterError]
    /// The rule set, when there is no problem.
    public let ruleSet: RuleSet?

    public var isValid: Bool { problems.isEmpty }

    /// `filters/: 3 files, 11 rules, OK`, or `filters/: 3 files, 11 rules, 2 problems`.
    public var summary: String {
        let outcome = isValid ? "OK" : Self.counted(problems.count, "problem")
        return "\(paths.joined(separator: " ")): \(Self.counted(files.count, "file")), "
            + "\(Self.counted(ruleCount, "rule")), \(outcome)"
    }

    public init(paths: [String]) {
        var files: [String] = []
        var problems: [FilterError] = []
        var parsedFiles: [RuleFile] = []
        var ruleCount = 0
        var names = RuleNameRegistry()
        var seen: Set<String> = []
        for path in paths {
            let found: [String]
            switch Self.ruleFiles(at: path) {
            case .success(let ruleFiles): found = ruleFiles
            case .failure(let problem):
                problems.append(problem)
                continue
            }
            for file in found {
                guard seen.insert(Self.canonical(file)).inserted else {
                    problems.append(FilterError(file: file, message: "named more than once among the paths"))
                    continue
                }
                files.append(file)
                switch Self.read(file) {
                case .success(let text):
                    let parsed = RuleFileParser.parse(yaml: text, path: file)
                    let duplicates = names.register(parsed.file.rules) + names.register(limitsOf: parsed.file)
                    problems += (parsed.problems + duplicates).enumerated()
                        .sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }
                        .map(\.element)
                    ruleCount += parsed.declaredRuleCount
                    parsedFiles.append(parsed.file)
                case .failure(let problem):
                    problems.append(problem)
                }
            }
        }
        self.paths = paths
        self.files = files
        self.ruleCount = ruleCount
        // Joining checks what spans files (duplicate milter names): its problems are reported too.
        var joined: RuleSet?
        if problems.isEmpty {
            do throws(FilterError.List) {
                joined = try RuleSet(files: parsedFiles)
            } catch {
                problems += error.problems
            }
        }
        self.problems = problems
        ruleSet = joined
    }

    // MARK: - Files

    /// The path itself, or the rule files of a directory in name order.
    static func ruleFiles(at path: String) -> Result<[String], FilterError> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure(FilterError(file: path, message: "no such file or directory"))
        }
        guard isDirectory.boolValue else { return .success([path]) }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            return .failure(FilterError(file: path, message: "cannot read directory"))
        }
        let prefix = path.hasSuffix("/") ? path : path + "/"
        let files = names
            .filter { !$0.hasPrefix(".") && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            .map { prefix + $0 }
            .filter { file in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) && !isDirectory.boolValue
            }
        return .success(files)
    }

    /// The absolute path with symbolic links resolved: the same file by any name.
    private static func canonical(_ file: String) -> String {
        URL(fileURLWithPath: file).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// The file as UTF-8 text.
    static func read(_ file: String) -> Result<String, FilterError> {
        guard FileManager.default.isReadableFile(atPath: file), let data = FileManager.default.contents(atPath: file)
        else {
            return .failure(FilterError(file: file, message: "cannot read file: permission denied or I/O error"))
        }
        if let line = firstInvalidUTF8Line(in: data) {
            return .failure(FilterError(file: file, line: line, message: "not UTF-8 text"))
        }
        return .success(String(decoding: data, as: UTF8.self))
    }

    /// The 1-based line of the first byte that is not valid UTF-8, or nil when all is valid.
    static func firstInvalidUTF8Line(in bytes: some Sequence<UInt8>) -> Int? {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var line = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1, encoded.first == UInt8(ascii: "\n") { line += 1 }
            case .emptyInput:
                return nil
            case .error:
                return line
            }
        }
    }

    private static func counted(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }
}
