import IPAddressing
import NIOCore
import PcapCapture
import SMTPCore
import SMTPReplay

/// A scripted TCP conversation, made into segments the way a capture would hold them (through
/// `TCPStreamSynthesizer` and `PacketDecoder`), for driver tests.
struct Conversation {
    enum Step {
        case client(String)
        case server(String)
        case clientBytes([UInt8])
        case closeClient
        case closeServer
    }

    var client = TCPEndpoint(address: IPAddress("192.0.2.10")!, port: 51_234)
    var server = TCPEndpoint(address: IPAddress("198.51.100.25")!, port: 25)
    var handshake = true
    var maximumSegmentSize = 1460

    /// The segments of `steps`, one millisecond apart per step.
    func segments(_ steps: [Step]) -> [TCPSegment] {
        var tcp = TCPStreamSynthesizer(client: client, server: server, maximumSegmentSize: maximumSegmentSize)
        var time = PacketTimestamp(seconds: 1_764_403_200)
        var frames: [SynthesizedFrame] = []
        let opening = tcp.open(at: time)
        if handshake { frames += opening }
        for step in steps {
            time = time.advanced(byNanoseconds: 1_000_000)
            switch step {
            case .client(let text): frames += tcp.send(from: .client, Array(text.utf8), at: time)
            case .clientBytes(let bytes): frames += tcp.send(from: .client, bytes, at: time)
            case .server(let text): frames += tcp.send(from: .server, Array(text.utf8), at: time)
            case .closeClient: frames += tcp.close(from: .client, at: time)
            case .closeServer: frames += tcp.close(from: .server, at: time)
            }
        }
        return frames.compactMap { frame in
            guard case .segment(let segment) = PacketDecoder.decode(CapturedPacket(timestamp: frame.timestamp, linkType: .ethernet, bytes: frame.bytes)) else {
                return nil
            }
            return segment
        }
    }

    /// Replays segments through a `ReplayDriver` and returns every event.
    static func replay(_ segments: [TCPSegment], policy: any InspectionPolicy = NoRules(), dryRun: Bool = false) -> [AuditEvent] {
        var driver = ReplayDriver(source: "test.pcap", sessionPrefix: "test.pcap", options: ReplayOptions(policy: policy, dryRun: dryRun))
        var events: [AuditEvent] = []
        for segment in segments { driver.process(segment, into: &events) }
        driver.finish(into: &events)
        return events
    }
}

extension AuditEvent {
    /// `command VRFY root reject no-vrfy`, `reply 250 MAIL`, `anomaly content-gap` — compact, for assertions.
    var summary: String {
        switch kind {
        case .sessionStart: return "start"
        case .command(let record): return "command \(record.verb) \(record.action)" + (record.rule.map { " \($0)" } ?? "")
        case .reply(let record): return "reply \(record.code) \(record.forVerb ?? "-")" + (record.local ? " local" : "")
        case .message(let record): return "message \(record.result.map(String.init) ?? "-")"
        case .anomaly(let kind, _): return "anomaly \(kind.rawValue)"
        case .sessionEnd(let summary): return "end \(summary.reason)"
        case .limit(let record): return "limit \(record.rule) \(record.action)"
        case .milter(let record): return "milter \(record.milter) \(record.verdict)"
        }
    }

    /// The JSON line without its timestamp (for comparing replays whose timing differs).
    var jsonLineWithoutTime: String {
        var copy = self
        copy.timestamp = SMTPTimestamp(seconds: 0)
        return copy.jsonLine
    }
}
