// The rule-file loader: YAML text → RuleFile → RuleSet (what `RuleSet.load(paths:)` does for each
// file, from a string).
//
// Input: the YAML text. Invariants: no crash (Yams, the key checks, regex and template
// compilation, CIDR parsing); a refused file gives at least one problem, each named after the file
// with a line inside it; parsing is deterministic; and a rule set that loads runs a session
// through the engine in which every line sent upstream is a canonical command line (a `rewrite`
// template cannot put a line end or NUL into a command).
import FuzzSupport
import NIOCore
import SMTPCore
import SMTPFilters

let path = "fuzz.yaml"

/// A session exercising every kind of rule: commands with arguments, EHLO keywords, reply codes.
let clientScript = [
    "EHLO client.example\r\n", "MAIL FROM:<alice@evil.example> SIZE=100\r\n", "RCPT TO:<bob@example.org>\r\n",
    "RCPT TO:<root@example.org>\r\n", "VRFY root\r\n", "EXPN staff\r\n", "XEXCH50 2 2\r\n", "ETRN example.org\r\n",
    "DATA\r\n", "Subject: hi\r\n\r\nbody\r\n.\r\n", "NOOP\r\n", "RSET\r\n", "QUIT\r\n",
]
let serverScript = [
    "220 mx.example.org ESMTP\r\n",
    "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-CHUNKING\r\n250-STARTTLS\r\n250-XEXCH50\r\n250 X-LINK2STATE\r\n",
    "250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n", "550 5.1.1 no\r\n", "252 2.0.0 maybe\r\n", "502 5.5.1 no\r\n", "504 no\r\n",
    "250 queued\r\n", "354 go\r\n", "250 2.0.0 queued\r\n", "250 ok\r\n", "250 ok\r\n", "221 bye\r\n",
]

func exercise(_ rules: RuleSet) {
    let configuration = InspectionConfiguration(sessionID: "fuzz", client: Fuzz.client, server: Fuzz.server)
    var engine = InspectionEngine(configuration: configuration, policy: rules)
    var effects = InspectionEffects()
    var toServer: [UInt8] = []
    engine.start(at: Fuzz.time, into: &effects)
    var clientLines = clientScript[...]
    for reply in serverScript {
        engine.receiveFromServer(ByteBuffer(string: reply), at: Fuzz.time, into: &effects)
        if let line = clientLines.popFirst() {
            engine.receiveFromClient(ByteBuffer(string: line), at: Fuzz.time, into: &effects)
        }
        toServer += Fuzz.joined(effects.toServer)
        effects.removeAll()
    }
    engine.finish(at: Fuzz.time, into: &effects)
    toServer += Fuzz.joined(effects.toServer)
    for line in toServer.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
        Fuzz.check(line.last == 0x0D && !line.dropLast().contains(0x0D) && !line.contains(0x00),
                   "a line sent upstream is not canonical: \(String(decoding: line, as: UTF8.self).debugDescription)")
    }
}

/// Lines as YAML counts them (what libyaml's marks, and so the problems, refer to): CRLF, CR, LF,
/// NEL, LS and PS each end a line.
func yamlLineCount(_ text: String) -> Int {
    var lines = 1
    var previous: Unicode.Scalar = " "
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": if previous != "\r" { lines += 1 }
        case "\r", "\u{85}", "\u{2028}", "\u{2029}": lines += 1
        default: break
        }
        previous = scalar
    }
    return lines
}

func load(_ text: String) -> Result<RuleSet, FilterError.List> {
    do {
        let file = try RuleFile(parsing: text, path: path)
        return .success(try RuleSet(files: [file]))
    } catch {
        return .failure(error)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRuleLoader(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let lines = yamlLineCount(text)
    let result = load(text)
    switch result {
    case .success(let rules):
        exercise(rules)
    case .failure(let list):
        Fuzz.check(!list.problems.isEmpty, "refused without a problem")
        for problem in list.problems {
            Fuzz.check(problem.file == path, "problem named after \(problem.file.debugDescription): \(problem)")
            if let line = problem.line { Fuzz.check(line >= 1 && line <= lines + 1, "line \(line) of a \(lines)-line file: \(problem)") }
            Fuzz.check(!problem.message.isEmpty, "empty message")
        }
    }
    switch (result, load(text)) {
    case (.success, .success): break
    case (.failure(let a), .failure(let b)): Fuzz.check(a == b, "parsing the same text twice gives different problems")
    default: Fuzz.check(false, "parsing the same text twice gives different outcomes")
    }
    return 0
}

/// The entry point SwiftPM links a debug executable with (`main` is aliased to it).
@_cdecl("FuzzRuleLoader_main")
public func fuzzRuleLoaderMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    Fuzz.runDriver(argc, argv) { data, size in fuzzRuleLoader(UnsafeRawPointer(data!), size) }
}
