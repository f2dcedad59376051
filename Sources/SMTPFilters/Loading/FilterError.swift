/// A problem in a rule file, located where an editor can jump to it.
///
///     filters/20-reconnaissance.yaml:14: unknown action 'rejct' (did you mean 'reject'?)
///     filters/missing.yaml: no such file or directory
///
/// `line` and `column` are 1-based (the column counts Unicode scalars, as libyaml does); both are
/// nil for problems of a whole path. Initialisers that parse a single value (`ArgumentPattern(_:)`…)
/// throw a `FilterError` with an empty `file` (a `CIDRError` from `CIDR(parsing:)` becomes one);
/// the loader then places it with `located(file:line:column:)`. A load that finds several
/// problems throws `FilterError.List`.
public struct FilterError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// A problem with a value, not yet placed in a file.
    public init(_ message: String) {
        self.init(file: "", message: message)
    }

    /// The same message at a place in a file.
    public func located(file: String, line: Int?, column: Int? = nil) -> FilterError {
        FilterError(file: file, line: line, column: column, message: message)
    }

    /// `file:line: message`, or `file: message` for a problem without a line.
    public var description: String {
        switch (file.isEmpty, line) {
        case (true, _): message
        case (false, let line?): "\(file):\(line): \(message)"
        case (false, nil): "\(file): \(message)"
        }
    }
}
