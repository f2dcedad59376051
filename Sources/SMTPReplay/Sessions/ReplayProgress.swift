/// How far a replay has read its capture (reported every few thousand packets).
public struct ReplayProgress: Hashable, Sendable {
    public var path: String
    public var bytesRead: Int64
    /// The file's size, when known (not for standard input).
    public var totalBytes: Int64?
    public var packets: Int

    public init(path: String, bytesRead: Int64, totalBytes: Int64?, packets: Int) {
        self.path = path
        self.bytesRead = bytesRead
        self.totalBytes = totalBytes
        self.packets = packets
    }

    /// 0…100 when the size is known.
    public var percent: Int? {
        guard let totalBytes, totalBytes > 0 else { return nil }
        return Int(min(100, bytesRead * 100 / totalBytes))
    }
}
