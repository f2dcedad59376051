/// Why a report could not be made: one line for standard error, naming the input.
///
///     smtp-inspect: mail.log:3: not an audit event (expected a JSON object with ts, session and event)
public struct ReportError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
