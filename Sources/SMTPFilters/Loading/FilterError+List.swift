extension FilterError {
    /// Every problem found while loading a rule set, in file order and, within a file, in line order.
    /// Its description has one `file:line: message` per line, as `smtp-inspect check` prints them.
    public struct List: Error, Hashable, Sendable, CustomStringConvertible {
        public var problems: [FilterError]

        public init(_ problems: [FilterError]) {
            self.problems = problems
        }

        public var description: String {
            problems.map(\.description).joined(separator: "\n")
        }
    }
}
