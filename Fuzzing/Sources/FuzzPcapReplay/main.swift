// A capture file through the whole replay path: libpcap (PcapReader), PacketDecoder, TCP
// reassembly, SMTP session detection and the engine with the shipped rules (CaptureReplay).
//
// Input: the capture file's bytes (pcap or pcapng), written to a temporary file because libpcap
// reads from a path. Invariants: no crash; a damaged file is an error, never a trap; every
// session the replay reports starts with exactly one `session-start` and ends with exactly one
// `session-end`, with nothing of it after that; replaying the same file twice gives the same
// events.
import FuzzSupport
import PcapCapture
import SMTPCore
import SMTPFilters
import SMTPReplay

#if canImport(Glibc)
import Glibc
#endif

let rules: RuleSet = {
    do { return try RuleSet.load(paths: [Fuzz.repositoryRoot + "/filters"]) } catch { fatalError("\(error)") }
}()

/// One file per process, rewritten for each input.
let capturePath: String = {
    var template = Array("/tmp/smtp-inspect-fuzz-XXXXXX.pcap".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 5) }
    guard fd >= 0 else { fatalError("cannot create a temporary file") }
    close(fd)
    let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    atexit { unlink(capturePath) }
    return path
}()

func write(_ start: UnsafeRawPointer, _ count: Int, to path: String) {
    let fd = open(path, O_WRONLY | O_TRUNC)
    guard fd >= 0 else { fatalError("cannot open \(path)") }
    var written = 0
    while written < count {
        let result = Glibc.write(fd, start + written, count - written)
        guard result > 0 else { fatalError("cannot write \(path)") }
        written += result
    }
    close(fd)
}

func replay(_ path: String) -> (events: [AuditEvent], failed: Bool) {
    var events: [AuditEvent] = []
    do {
        try CaptureReplay(path: path, options: ReplayOptions(policy: rules)).run { events += $0 }
        return (events, false)
    } catch {
        Fuzz.check(!error.description.isEmpty && !error.description.contains("\n"), "the error is not one line: \(error)")
        return (events, true)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPcapReplay(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    write(start, count, to: capturePath)
    let first = replay(capturePath)
    var started: Set<String> = []
    var ended: Set<String> = []
    for event in first.events {
        Fuzz.check(!ended.contains(event.session), "an event of session \(event.session) after its session-end")
        switch event.kind {
        case .sessionStart:
            Fuzz.check(started.insert(event.session).inserted, "two session-starts for \(event.session)")
        case .sessionEnd:
            ended.insert(event.session)
        default:
            Fuzz.check(started.contains(event.session), "an event of session \(event.session) before its session-start")
        }
    }
    Fuzz.check(started == ended, "sessions started but never ended: \(started.subtracting(ended).sorted())")
    let second = replay(capturePath)
    Fuzz.check(first.failed == second.failed && first.events == second.events, "replaying the same file twice differs")
    return 0
}

/// The entry point SwiftPM links a debug executable with (`main` is aliased to it).
@_cdecl("FuzzPcapReplay_main")
public func fuzzPcapReplayMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    Fuzz.runDriver(argc, argv) { data, size in fuzzPcapReplay(UnsafeRawPointer(data!), size) }
}
