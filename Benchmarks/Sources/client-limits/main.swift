// The client-limit counters alone (no sockets): bytes per tracked key, and the cost of counting an
// event and of judging a consult at 1,000 and at 1,000,000 keys, with filters/40-clients.yaml
// (CPU time per operation; with several threads, the CPU time of all of them).
//   swift run -c release client-limits [../filters/40-clients.yaml] [threads]
import Foundation
import SMTPCore
import SMTPFilters
import SMTPServices

let file = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "../filters/40-clients.yaml"
let threads = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 1 : 1
var limits: ClientLimits
do {
    limits = try RuleSet.load(paths: [file]).clientLimits
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(2)
}
limits.trackedKeys = 1_100_000
let server = Endpoint(host: "192.0.2.25", port: 25)
let start = SMTPTimestamp(seconds: 1_800_000_000)

/// Resident memory now, from /proc/self/statm.
func residentBytes() -> Int {
    let fields = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
    return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// `10.a.b.c` for key number `index` (up to 16 M distinct addresses, 65,536 /24 networks).
func host(_ index: Int) -> String {
    "10.\((index >> 16) & 255).\((index >> 8) & 255).\(index & 255)"
}

/// CPU seconds the process spent in `block` (all threads), not wall time: on a machine shared
/// with builds, wall time measures the neighbours.
func seconds(_ block: () -> Void) -> Double {
    func cpu() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
    let begin = cpu()
    block()
    return cpu() - begin
}

/// One short session of client `index` at `time`: start, one unknown recipient, end.
func session(_ consultant: ClientLimitConsultant, _ index: Int, at time: SMTPTimestamp, id: String) {
    let client = Endpoint(host: host(index), port: 40_000)
    consultant.observe([
        AuditEvent(timestamp: time, session: id, kind: .sessionStart(client: client, server: server, source: "live")),
        AuditEvent(
            timestamp: time, session: id,
            kind: .reply(ReplyRecord(code: 550, text: "5.1.1 <x@example.org>: Recipient address rejected", forVerb: "RCPT", local: false))),
        AuditEvent(
            timestamp: time, session: id,
            kind: .sessionEnd(SessionSummary(reason: "client-quit", bytesFromClient: 0, bytesFromServer: 0, commands: 0, messages: 0, tls: "none"))),
    ][...])
}

// 1. Memory: 1,000,000 distinct addresses, one session each.
let keys = 1_000_000
let before = residentBytes()
let filled = ClientLimitConsultant(limits: limits)
let fillTime = seconds {
    for index in 0..<keys { session(filled, index, at: start, id: "m\(index)") }
}
let after = residentBytes()
let tracked = filled.store.keyCount
print(String(format: "keys tracked: %d (addresses and their /24 networks); RSS added %.1f MiB; %.0f bytes per key; fill %.0f ns per event",
             tracked, Double(after - before) / 1_048_576, Double(after - before) / Double(tracked), fillTime * 1e9 / Double(3 * keys)))

// 2. Time per event and per consult, at 1k and at 1M keys (the 1M run reuses the filled store).
for (label, count, consultant) in [("1k", 1_000, ClientLimitConsultant(limits: limits)), ("1M", keys, filled)] {
    if count == 1_000 { for index in 0..<count { session(consultant, index, at: start, id: "w\(index)") } }
    let rounds = 1_000_000
    var generator = SystemRandomNumberGenerator()
    let order = (0..<rounds).map { _ in Int.random(in: 0..<count, using: &generator) }
    let ids = (0..<threads).map { thread in (0..<64).map { "t\(thread)-\($0)" } }
    let later = SMTPTimestamp(seconds: start.seconds + 1)
    let observeTime = seconds {
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for round in stride(from: thread, to: rounds, by: threads) {
                session(consultant, order[round], at: later, id: ids[thread][round & 63])
            }
        }
    }
    // Consults three hours on: every window (≤ 1h) has emptied and every ban (≤ 1h) ended, so
    // both sizes take the same full path (every rule's cell read) instead of stopping at a ban.
    let quiet = SMTPTimestamp(seconds: start.seconds + 3 * 3600)
    var refused = 0
    let end = SessionSummary(reason: "client-quit", bytesFromClient: 0, bytesFromServer: 0, commands: 0, messages: 0, tls: "none")
    var consultTimes: [ConsultStage: Double] = [:]
    for stage in [ConsultStage.connect, .rcpt] {
        consultTimes[stage] = seconds {
            for round in 0..<rounds {
                let facts = SessionFacts(sessionID: "c", client: Endpoint(host: host(order[round]), port: 40_000), server: server)
                if consultant.verdict(for: ConsultRequest(stage: stage, facts: facts), at: quiet).action != .proceed { refused += 1 }
                // An admitted session holds a place in the `sessions` gauge until its end.
                if stage == .connect { consultant.observe([AuditEvent(timestamp: quiet, session: "c", kind: .sessionEnd(end))][...]) }
            }
        }
    }
    let consultTime = (consultTimes[.connect]! + consultTimes[.rcpt]!) / 2
    print(String(format: "%@ keys: CONNECT consult + session end %.0f ns, RCPT consult %.0f ns",
                 label, consultTimes[.connect]! * 1e9 / Double(rounds), consultTimes[.rcpt]! * 1e9 / Double(rounds)))
    print(String(format: "%@ keys: %.0f ns per counted event (%d thread%@: start, 550 5.1.1, end; random keys); %.0f ns per consult on average (%d not proceed)",
                 label, observeTime * 1e9 / Double(3 * rounds), threads, threads == 1 ? "" : "s", consultTime * 1e9 / Double(rounds), refused))
}
