/// What a report input is, told by its first bytes rather than its name: a pcap or pcapng capture
/// (by the file magic), or a JSON-lines audit log (the first non-blank byte is `{`, or the
/// file is empty).
enum InputKind: Equatable {
    case capture
    case auditLog

    /// pcap (both byte orders, micro- and nanosecond) and pcapng's section header block.
    private static let captureMagics: [[UInt8]] = [
        [0xD4, 0xC3, 0xB2, 0xA1], [0xA1, 0xB2, 0xC3, 0xD4], [0x4D, 0x3C, 0xB2, 0xA1], [0xA1, 0xB2, 0x3C, 0x4D],
        [0x0A, 0x0D, 0x0D, 0x0A],
    ]

    /// Nil when the bytes are neither.
    init?(prefix: [UInt8]) {
        if prefix.count >= 4, Self.captureMagics.contains(Array(prefix[0..<4])) {
            self = .capture
            return
        }
        let blanks: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        // An empty log is a log: a proxy that has not seen a session yet.
        guard let first = prefix.first(where: { !blanks.contains($0) }) else {
            self = .auditLog
            return
        }
        guard first == UInt8(ascii: "{") else { return nil }
        self = .auditLog
    }
}
