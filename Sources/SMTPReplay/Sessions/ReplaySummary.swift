import PcapCapture

/// What one capture file gave.
public struct ReplaySummary: Hashable, Sendable {
    public var path: String
    public var linkType: LinkType?
    public var packets = 0
    public var tcpSegments = 0
    /// Packets that carried no TCP segment, by reason.
    public var ignoredPackets: [IgnoredPacketReason: Int] = [:]
    public var smtpSessions = 0
    public var events = 0
    public var reassembly = ReassemblyStatistics()

    public init(path: String) {
        self.path = path
    }

    /// `mail.pcap: 1358 packets, 1 TCP connection, 1 SMTP session, 3 gaps (4 200 octets)`
    public var description: String {
        var text = "\(path): \(packets) packet\(packets == 1 ? "" : "s"), \(reassembly.connections) TCP connection"
            + "\(reassembly.connections == 1 ? "" : "s"), \(smtpSessions) SMTP session\(smtpSessions == 1 ? "" : "s")"
        if reassembly.gaps > 0 { text += ", \(reassembly.gaps) gap\(reassembly.gaps == 1 ? "" : "s") (\(reassembly.gapBytes) octets)" }
        return text
    }
}
