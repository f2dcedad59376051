import Foundation
import PcapCapture
import SMTPCore
import SMTPReplay
import Testing

/// Every file of the corpus and of the repository's `captures/` replays without an error (but the
/// one damaged on purpose) and without a crash, finds the SMTP sessions each file holds
/// (counted with tshark when the corpus was assembled; captures/README.md for our own), and gives well-formed event streams.
@Suite("Corpus replays")
struct CorpusReplayTests {
    /// The corpus files with more than one SMTP session (counted with tshark when the corpus was
    /// assembled), and captures/README.md's files with several sessions.
    static let smtpSessions: [String: Int] = [
        "arkime__smtp-decrypted.pcap": 4,
        "chrissanders-packets__mail_sender_server_2.pcapng": 2,
        "httpreplay__2014-08-13-element1208_spm2.exe-sandbox-analysis.pcap": 2,
        "nDPI__smtp-starttls.pcap": 2,
        "suricata-verify__smtp-errors__smtperr.pcap": 4,
        "zeek__smtp.pcap": 2,
        "zeek__smtp_smtp-bdat-cmd-invalid.pcapng": 3,
        "captures/several-sessions.pcap": 4,
        "captures/smtplib-auth.pcap": 2,
    ]

    @Test("replays completely", arguments: Corpus.allCaptures)
    func replays(file: String) throws {
        var events: [AuditEvent] = []
        let replay = CaptureReplay(path: Corpus.path(file))
        do {
            let summary = try replay.run { events.append(contentsOf: $0) }
            #expect(!Corpus.damaged.contains(file), "\(file) should have failed")
            #expect(summary.smtpSessions == Self.smtpSessions[file, default: 1])
        } catch {
            #expect(Corpus.damaged.contains(file), "\(file): \(error)")
            #expect(error.underlying.kind == .readFailed)
            // The sessions before the damage were reported, and finished.
            #expect(error.summary?.smtpSessions == 1)
        }
        var sessions: [String: [AuditEvent]] = [:]
        for event in events { sessions[event.session, default: []].append(event) }
        #expect(sessions.count == Self.smtpSessions[file, default: 1])
        for (id, list) in sessions {
            #expect(id.hasPrefix(Corpus.sessionPrefix(file) + "#"))
            #expect(list.first?.name == "session-start", "\(id)")
            #expect(list.last?.name == "session-end", "\(id)")
            #expect(list.filter { $0.name == "session-start" || $0.name == "session-end" }.count == 2, "\(id)")
            // Capture order: timestamps never go back within a session.
            #expect(zip(list, list.dropFirst()).allSatisfy { $0.timestamp <= $1.timestamp }, "\(id)")
        }
        for event in events {
            let object = try JSONSerialization.jsonObject(with: Data(event.jsonLine.utf8)) as? [String: Any]
            #expect(object?["session"] as? String == event.session)
        }
    }

    @Test func knownSessionsReadAsExpected() throws {
        // A few facts about the corpus files (see Tests/Corpus/NOTICE), read through the whole pipeline.
        func summaries(_ file: String) throws -> [String] {
            (try? CaptureReplay(path: Corpus.path(file)).events())?.map(\.summary) ?? []
        }
        // SOCKS5 tunnel on tcp/1080, then Exim; AUTH LOGIN refused with 503.
        let socks = try summaries("arkime__socks5-smtp-503.pcap")
        #expect(socks.contains("anomaly tunnel") && socks.contains("reply 503 AUTH"))
        // BDAT on tcp/1224 with an 8 KB chunk, answered.
        #expect(try summaries("arkime__wireshark-bdat.pcap").contains("message 250"))
        // One transaction with ~600 recipients, each answered.
        #expect(try summaries("zeek__smtp_smtp-many-addresses.pcap").filter { $0 == "reply 250 RCPT" }.count >= 600)
        // STARTTLS: the rest is relayed blind.
        let tls = try CaptureReplay(path: Corpus.path("zeek__tls_smtp-starttls.pcap")).events()
        if case .sessionEnd(let end) = tls.last?.kind { #expect(end.tls == "passthrough") }
        // A lost segment ends the session's replay with a content gap.
        #expect(try summaries("zeek__smtp_smtp-bdat-gap.pcap").contains("anomaly content-gap"))
        // The edited capture whose server segments contradict each other.
        #expect(try summaries("suricata-verify__smtp-bug-5989.pcap").contains("anomaly tcp-overlap-conflict"))
    }
}
