/// A CIDR block that could not be read; `description` is one line naming the value
/// (`'203.0.113.5/24' has host bits set (did you mean 203.0.113.0/24 or 203.0.113.5?)`).
public struct CIDRError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
