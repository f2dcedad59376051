/// A TCP connection to the resend target that could not be made or failed (one line).
public struct SocketFailure: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
