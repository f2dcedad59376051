/// Names one outstanding question the engine asked its driver (`SessionAction.consult`); the
/// driver answers it with `InspectionEngine.decided(_:_:at:into:)`. Unique within a session.
public struct ConsultID: Hashable, Sendable, CustomStringConvertible {
    public let value: UInt32
    public init(_ value: UInt32) { self.value = value }
    public var description: String { "c\(value)" }
}
