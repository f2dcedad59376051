/// Where a rule was defined: the file and the line of its `name:` key.
///
///     filters/20-reconnaissance.yaml:12
public struct RuleLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}
