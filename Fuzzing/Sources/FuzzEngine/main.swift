// The whole InspectionEngine, with rules, fed a client and a server stream interleaved.
//
// Input: byte 0 configures the session (bits 0-1 the rule set, bit 2 dry run, bits 3-4 the TLS
// mode, bit 5 client transcript, bit 6 consults: the engine stops at HELO, MAIL, RCPT, DATA, VRFY,
// ETRN and the end of each message for verdicts that depend only on the question), byte 1 picks
// how each chunk is cut for the second run (and, with consults, how many client reads each
// verdict arrives late: verdicts are all in before the next server bytes, as an upstream can only
// answer what was forwarded); the rest
// is a script in which these control bytes switch what the following bytes are:
//   0xFF  server bytes follow          0xFE  client bytes follow (the script starts with the server)
//   0xFD  the client closes            0xFC  the server closes
//   0xFB  a chunk boundary (a new read on the same leg)
// Ending the script calls `finish`.
//
// Invariants:
// - segmentation independence: the same script with every chunk cut into small reads gives the
//   same bytes to each side, the same events and the same close requests;
// - what the upstream would read in the bytes sent to it (`UpstreamReader`) are exactly the
//   commands the engine logged as forwarded, in order: no end of data and no command reaches the
//   server that the engine did not see and log (smuggling), and every forwarded line and DATA
//   body is canonical (CRLF only, no NUL, no bare CR or LF);
// - nothing is sent to the upstream after the engine asked to close it or to shut its output;
// - with consults, the timing of verdicts changes no byte to either side and no event (each kind
//   compared in order: how command and reply events interleave follows the timing).
import FuzzSupport
import NIOCore
import SMTPCore
import SMTPFilters

enum ScriptStep {
    case client(ArraySlice<UInt8>)
    case server(ArraySlice<UInt8>)
    case clientClose
    case serverClose
}

func parseScript(_ bytes: ArraySlice<UInt8>) -> [ScriptStep] {
    var steps: [ScriptStep] = []
    var toServerLeg = true
    var start = bytes.startIndex
    func flush(_ end: Int) {
        if end > start { steps.append(toServerLeg ? .server(bytes[start..<end]) : .client(bytes[start..<end])) }
    }
    var index = bytes.startIndex
    while index < bytes.endIndex {
        let byte = bytes[index]
        if byte >= 0xFB {
            flush(index)
            switch byte {
            case 0xFF: toServerLeg = true
            case 0xFE: toServerLeg = false
            case 0xFD: steps.append(.clientClose)
            case 0xFC: steps.append(.serverClose)
            default: break
            }
            start = index + 1
        }
        index += 1
    }
    flush(bytes.endIndex)
    return steps
}

/// The rule sets a script can pick: none, the shipped `filters/`, the Exchange sample, and a
/// small hostile one (tiny limits, `bare-newline: reject`, rewrite, strip, disconnect).
let ruleSets: [any InspectionPolicy] = {
    let root = Fuzz.repositoryRoot
    let hostile = """
        settings:
          banner: "fuzz.example ESMTP"
          limits: {max-line-length: 64, max-recipients: 2, max-message-size: 300}
          bare-newline: reject
        rules:
          - name: rewrite-sender
            command: MAIL
            argument: '(?i)^FROM:<([^@>]*)@evil\\.example>'
            action: rewrite
            replace: 'FROM:<$1@good.example>'
          - name: hide-chunking
            ehlo-keyword: [CHUNKING, STARTTLS]
            action: strip
          - name: no-etrn
            command: ETRN
            action: disconnect
          - name: log-everything
            command: "*"
            action: log
          - name: log-refusals
            reply-code: ["4xx", "5xx"]
            action: log
          - name: allow-noop
            command: NOOP
            action: allow
          - name: no-vrfy
            command: [VRFY, EXPN]
            argument: 'root|admin'
            action: reject
            reply: "550 5.7.1 no"
        """
    do {
        return [
            NoRules(),
            try RuleSet.load(paths: [root + "/filters"]),
            try RuleSet.load(paths: [root + "/deploy/exchange-front"]),
            try RuleSet(files: [RuleFile(parsing: hostile, path: "hostile.yaml")]),
        ]
    } catch {
        fatalError("fuzz rule sets do not load (root \(root)): \(error)")
    }
}()

struct Outcome: Equatable {
    var toServer: [UInt8] = []
    var toClient: [UInt8] = []
    var events: [AuditEvent.Kind] = []
    var closeClient = false
    var closeServer = false
    var shutdownServerOutput = false
    var clientTLSStarts = 0
    var serverTLSStarts = 0
    /// The upstream's 220 to STARTTLS turned the session into a blind relay (passthrough, or a
    /// STARTTLS only would-stripped under --dry-run).
    var relayStarts = 0
}

/// The verdict for a question: a function of the question alone, so both runs get the same.
func verdict(for request: ConsultRequest) -> Verdict {
    var hash: UInt32 = 2_166_136_261
    for octet in request.argument.utf8 { hash = (hash ^ UInt32(octet)) &* 16_777_619 }
    if request.stage == .endOfMessage {
        return request.facts.size.map { $0 % 4 == 1 } == true ? Verdict(.reply(SMTPReply(code: 554, "5.7.1 fuzz refused"))) : .proceed
    }
    switch hash % 8 {
    case 0: return Verdict(.reply(SMTPReply(code: 550, "5.7.1 fuzz")), rule: "fuzz-policy", policyAnswer: "REJECT fuzz")
    case 1: return Verdict(.proceed, prependHeaders: ["X-Fuzz: \(hash)\r\n.\r\nMAIL FROM:<x@y>"], rule: "fuzz-policy")
    case 2: return Verdict(.delay(.seconds(2)), rule: "fuzz-tarpit")
    case 3: return Verdict(.disconnect(SMTPReply(code: 421, "4.7.0 fuzz")), events: [.anomaly(AnomalyKind(rawValue: "fuzz"), detail: "bye")])
    case 4: return Verdict(.rewrite(argument: request.argument + " X"), rule: "fuzz-rewrite")
    default: return .proceed
    }
}

func run(
    _ steps: [ScriptStep], configuration: InspectionConfiguration, policy: any InspectionPolicy, cut: UInt8?, lateVerdicts: Int = 0
) -> Outcome {
    var engine = InspectionEngine(configuration: configuration, policy: policy)
    var effects = InspectionEffects()
    var outcome = Outcome()
    let time = Fuzz.time
    /// Verdicts owed, with how many more client reads they wait.
    var owed: [(id: ConsultID, verdict: Verdict, reads: Int)] = []
    func collect() {
        for action in effects.actions {
            switch action {
            case .consult(let id, let request): owed.append((id, verdict(for: request), lateVerdicts))
            case .resumeAt(let id, _): owed.append((id, .proceed, lateVerdicts))
            default: break
            }
        }
        let upstreamDone = outcome.closeServer || outcome.shutdownServerOutput
        let sent = Fuzz.joined(effects.toServer)
        Fuzz.check(!upstreamDone || sent.isEmpty, "\(sent.count) octets for the upstream after closing it")
        if effects.startServerTLS {
            Fuzz.check(effects.toServer.isEmpty, "bytes for the upstream in the batch that starts its TLS")
            outcome.serverTLSStarts += 1
        }
        if effects.startClientTLS { outcome.clientTLSStarts += 1 }
        if configuration.tlsMode != .terminate, effects.events.contains(where: {
            if case .reply(let reply) = $0.kind { reply.forVerb == "STARTTLS" && reply.code == 220 && !reply.local } else { false }
        }) {
            outcome.relayStarts += 1
        }
        outcome.toServer += sent
        outcome.toClient += Fuzz.joined(effects.toClient)
        outcome.events += effects.events.map(\.kind)
        outcome.closeClient = outcome.closeClient || effects.closeClient
        outcome.closeServer = outcome.closeServer || effects.closeServer
        outcome.shutdownServerOutput = outcome.shutdownServerOutput || effects.shutdownServerOutput
        effects.removeAll()
    }
    /// Hands over the verdicts that are due (all of them with `everything`).
    func answer(everything: Bool = false) {
        while let index = owed.firstIndex(where: { everything || $0.reads <= 0 }) {
            let due = owed.remove(at: index)
            engine.decided(due.id, due.verdict, at: time, into: &effects)
            collect()
        }
    }
    engine.start(at: time, into: &effects)
    collect()
    var clientOpen = true
    var serverOpen = true
    for step in steps {
        // A closed leg gives no more reads (the driver contract): later bytes of that leg are dropped.
        switch step {
        case .client, .clientClose: if !clientOpen { continue }
        case .server, .serverClose: if !serverOpen { continue }
        }
        // Under `--tls terminate` the rest of a read that was on its way when the leg turned to
        // TLS belongs to the TLS layer, not the engine: dropped, as the live driver does. Under
        // `passthrough` the engine discards what came in the same read as the 220 (and relays
        // what comes later): the split run drops the rest of that read to match.
        switch step {
        case .client: for index in owed.indices { owed[index].reads -= 1 }
        default: answer(everything: true)
        }
        answer()
        let starts = (outcome.clientTLSStarts + outcome.relayStarts, outcome.serverTLSStarts + outcome.relayStarts)
        switch step {
        case .client(let bytes):
            for piece in cut.map({ Fuzz.pieces(of: bytes, seed: $0) }) ?? [bytes] where outcome.clientTLSStarts + outcome.relayStarts == starts.0 {
                engine.receiveFromClient(Fuzz.buffer(piece), at: time, into: &effects)
                collect()
            }
        case .server(let bytes):
            for piece in cut.map({ Fuzz.pieces(of: bytes, seed: $0) }) ?? [bytes] where outcome.serverTLSStarts + outcome.relayStarts == starts.1 {
                engine.receiveFromServer(Fuzz.buffer(piece), at: time, into: &effects)
                collect()
            }
        case .clientClose:
            clientOpen = false
            engine.clientClosed(at: time, into: &effects)
            collect()
        case .serverClose:
            serverOpen = false
            engine.serverClosed(at: time, into: &effects)
            collect()
        }
    }
    answer(everything: true)
    engine.finish(at: time, into: &effects)
    collect()
    Fuzz.check(engine.isFinished, "not finished after finish")
    return outcome
}

/// Whether plain text pipelined behind STARTTLS reached the engine (and was discarded with an
/// anomaly) or the TLS layer / blind relay depends on the cut: compare without it.
func comparable(_ outcome: Outcome, tlsMode: TLSMode) -> Outcome {
    // (`--tls strip` too: under --dry-run a STARTTLS is only would-stripped, and a 220 to it
    // starts the blind relay as in passthrough.)
    var result = outcome
    result.events = outcome.events.compactMap { kind -> AuditEvent.Kind? in
        switch kind {
        case .anomaly(.pipelinedAfterStartTLS, _): return nil
        case .sessionEnd(var summary):
            (summary.bytesFromClient, summary.bytesFromServer) = (0, 0)
            return .sessionEnd(summary)
        default: return kind
        }
    }
    return result
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEngine(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count >= 2 else { return 0 }
    let data = Array(UnsafeRawBufferPointer(start: start, count: count))
    let control = data[0]
    let policy = ruleSets[Int(control & 0x03)]
    let tlsModes: [TLSMode] = [.passthrough, .strip, .terminate, .passthrough]
    let tlsMode = tlsModes[Int((control >> 3) & 0x03)]
    var configuration = InspectionConfiguration(
        sessionID: "fuzz", client: Fuzz.client, server: Fuzz.server, source: "fuzz",
        dryRun: control & 0x04 != 0, tlsMode: tlsMode, recordsClientTranscript: control & 0x20 != 0)
    let consults = control & 0x40 != 0
    if consults { configuration.consultStages = [.helo, .mail, .rcpt, .data, .vrfy, .etrn, .endOfMessage] }
    let steps = parseScript(data[2...])

    let whole = run(steps, configuration: configuration, policy: policy, cut: nil)
    UpstreamReader.verify(whole, tlsMode: tlsMode)
    let split = run(steps, configuration: configuration, policy: policy, cut: data[1], lateVerdicts: consults ? Int(data[1] % 4) : 0)
    let (a, b) = (comparable(whole, tlsMode: tlsMode), comparable(split, tlsMode: tlsMode))
    Fuzz.check(a.toServer == b.toServer, "bytes to the server depend on segmentation")
    Fuzz.check(a.toClient == b.toClient, "bytes to the client depend on segmentation")
    if consults {
        // Each kind of event in order; how kinds interleave follows the verdicts' timing.
        func kinds(_ events: [AuditEvent.Kind]) -> [String: [AuditEvent.Kind]] {
            Dictionary(grouping: events) { kind in
                switch kind {
                case .command: "command"
                case .reply: "reply"
                case .message: "message"
                default: "other"
                }
            }
        }
        Fuzz.check(kinds(a.events) == kinds(b.events), "events depend on the timing of verdicts")
        var (x, y) = (a, b)
        (x.events, y.events) = ([], [])
        Fuzz.check(x == y, "close requests or TLS starts depend on the timing of verdicts")
        return 0
    }
    if a.events != b.events {
        let index = zip(a.events, b.events).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.events.count, b.events.count)
        Fuzz.check(false, "events depend on segmentation, first at \(index): \(index < a.events.count ? "\(a.events[index])" : "-") vs \(index < b.events.count ? "\(b.events[index])" : "-")")
    }
    Fuzz.check(a == b, "close requests or TLS starts depend on segmentation")
    return 0
}

/// The entry point SwiftPM links a debug executable with (`main` is aliased to it).
@_cdecl("FuzzEngine_main")
public func fuzzEngineMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    Fuzz.runDriver(argc, argv) { data, size in fuzzEngine(UnsafeRawPointer(data!), size) }
}
