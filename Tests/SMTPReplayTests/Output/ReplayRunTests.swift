import TestSupport
import Foundation
import SMTPCore
import SMTPReplay
import Testing

@Suite("ReplayRun")
struct ReplayRunTests {
    final class Capture: @unchecked Sendable {
        var output = ""
        var report = ""
    }

    func run(_ files: [String], format: ReplayFormat, showProgress: Bool = false, largeFileSize: Int64 = 16 << 20) -> (Int32, Capture) {
        let capture = Capture()
        var run = ReplayRun(files: files, format: format, showProgress: showProgress)
        run.largeFileSize = largeFileSize
        let status = run.run(write: { capture.output += $0 }, report: { capture.report += $0 })
        return (status, capture)
    }

    @Test func jsonIsOneEventPerLine() throws {
        let (status, capture) = run([Corpus.path("mercury__smtp.pcap")], format: .json)
        #expect(status == 0)
        #expect(capture.report.isEmpty)
        let lines = capture.output.split(separator: "\n")
        #expect(lines.count == 15)
        #expect(capture.output.hasSuffix("}\n"))
        for line in lines {
            #expect(try JSONSerialization.jsonObject(with: Data(line.utf8)) is [String: Any])
        }
        #expect(lines.first?.contains(#""event":"session-start""#) == true)
        #expect(lines.first?.contains(#""source":"\#(Corpus.path("mercury__smtp.pcap"))#0""#) == true)
    }

    @Test func tableShowsEachSessionAndTheFile() {
        let (status, capture) = run([Corpus.path("mercury__smtp.pcap")], format: .table)
        #expect(status == 0)
        let text = capture.output
        #expect(text.contains("── mercury__smtp.pcap#0  192.168.122.11:54320 → 149.20.54.225:25  2014-10-10T21:11:48.422764Z ──"))
        #expect(text.contains("  (greeting)  "))
        #expect(text.contains("HELO malware.com"))
        #expect(text.contains("(end of data)"))
        #expect(text.contains("message  <malware@malware.com> → <bit-bucket@test.smtp.org>"))
        #expect(text.contains("result: quit; 5 commands, 1 message; 206 octets from the client, 477 from the server; TLS none"))
        #expect(text.hasSuffix("mercury__smtp.pcap: 9 packets, 1 TCP connection, 1 SMTP session\n"))
        // The greeting comes first although the client spoke first in this capture.
        let greeting = text.range(of: "(greeting)")!.lowerBound
        #expect(greeting < text.range(of: "HELO malware.com")!.lowerBound)
    }

    @Test func unreadableFilesCostOneLineAndExitTwo() throws {
        let directory = try TemporaryDirectory()
        let empty = try directory.write("empty.pcap", [])
        let text = try directory.write("notes.txt", Array("not a capture\n".utf8))
        let missing = directory.file("missing.pcap")
        for path in [empty, text, missing] {
            let (status, capture) = run([path], format: .json)
            #expect(status == 2)
            #expect(capture.output.isEmpty)
            #expect(capture.report.hasPrefix("smtp-inspect: \(path): "))
            #expect(capture.report.filter { $0 == "\n" }.count == 1)
        }
    }

    @Test func aDamagedFileStillReportsItsSessionsAndTheOthersRun() {
        let damaged = Corpus.path("suricata-verify__smtp-to-comma.pcap")
        let (status, capture) = run([damaged, Corpus.path("mercury__smtp.pcap")], format: .json)
        #expect(status == 2)
        #expect(capture.report == "smtp-inspect: \(damaged): invalid packet capture length 3925868813, bigger than snaplen of 262144 (after 18 packets)\n")
        #expect(capture.output.contains(#""session":"suricata-verify__smtp-to-comma.pcap#0","event":"session-end""#))
        #expect(capture.output.contains(#""session":"mercury__smtp.pcap#0","event":"session-end""#))
    }

    @Test func progressRewritesOneLineAndErasesIt() {
        let (_, capture) = run([Corpus.path("zeek__smtp_smtp-many-addresses.pcap")], format: .json, showProgress: true, largeFileSize: 0)
        #expect(capture.report.hasPrefix("\rreplay: "))
        #expect(capture.report.contains("% ("))
        #expect(capture.report.hasSuffix("\r\u{1B}[K"))
        let quiet = run([Corpus.path("zeek__smtp_smtp-many-addresses.pcap")], format: .json, showProgress: true).1
        #expect(quiet.report.isEmpty)
    }
}
