import TestSupport
import NIOCore
import SMTPCore
/// Generates plausible and hostile two-sided SMTP conversations for property tests: random case
/// and spacing, pipelined batches, DATA bodies with every smuggling sequence, BDAT, AUTH,
/// refused verbs, bare line ends, STARTTLS followed by binary, abrupt ends.
///
/// It knows `policy` (VRFY/EXPN rejected, X-EXCH50 stripped) so the server side replies only to
/// forwarded commands, the way a real server would.
struct SessionGenerator {
    var rng: SeededGenerator

    static let policy = TestPolicy(
        settings: PolicySettings(maxRecipients: 3),
        rejected: ["VRFY", "EXPN"],
        logged: ["AUTH"],
        stripped: ["X-EXCH50", "XEXCH50"],
        replyLogCodes: [554]
    )

    init(seed: UInt64) {
        rng = SeededGenerator(seed: seed)
    }

    private mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &rng) < percent }
    private mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }

    private mutating func verb(_ name: String) -> String {
        guard chance(30) else { return name }
        return String(name.map { chance(50) ? Character($0.lowercased()) : $0 })
    }

    private mutating func space() -> String { chance(15) ? pick(["  ", "\t", " \t "]) : " " }
    private mutating func eol() -> String { chance(5) ? "\n" : "\r\n" }

    private mutating func bodyLine() -> String {
        switch Int.random(in: 0..<14, using: &rng) {
        case 0: return ".."
        case 1: return ".hidden"
        case 2: return ""
        case 3: return "MAIL FROM:<smuggled@evil>"
        case 4: return "text\n.\nMAIL FROM:<s@e>"
        case 5: return "x\r.\r"
        case 6: return "y\n.\r"
        case 7: return "z\u{0}."
        case 8: return "Subject: line " + String(Int.random(in: 0..<1000, using: &rng))
        case 9: return "end\r\n.\r"
        default:
            let word = pick(["lorem ", "ipsum ", "dolor ", "\t", "é"])
            let count = Int.random(in: 1..<30, using: &rng)
            return String(repeating: word, count: count)
        }
    }

    mutating func session() -> [Step] {
        var steps: [Step] = [.server("220 mx.test ESMTP\r\n")]
        if chance(10) {
            // A client that talks before the greeting (pipelining violation); the server answers.
            steps.insert(.client(verb("EHLO") + " early\r\n"), at: 0)
            steps.append(.server("250 mx.test\r\n"))
        }
        steps.append(.client(verb("EHLO") + space() + "client.test" + eol()))
        var keywords = ["PIPELINING", "SIZE 10240000", "8BITMIME"]
        if chance(50) { keywords.append("X-EXCH50") }
        if chance(50) { keywords.append("CHUNKING") }
        if chance(30) { keywords.append("AUTH PLAIN LOGIN") }
        if chance(20) { keywords.append("STARTTLS") }
        if chance(20) { keywords.append("") }
        var ehlo = "250-mx.test\r\n"
        for (index, keyword) in keywords.enumerated() {
            ehlo += "250" + (index == keywords.count - 1 ? " " : "-") + keyword + "\r\n"
        }
        steps.append(.server(ehlo))
        if chance(30) {
            steps.append(.client(verb("AUTH") + " LOGIN\r\n"))
            steps.append(.server("334 VXNlcm5hbWU6\r\n"))
            steps.append(.client("dXNlcg==\r\n"))
            steps.append(.server("334 UGFzc3dvcmQ6\r\n"))
            steps.append(.client("cGFzcw==\r\n"))
            steps.append(.server(pick(["235 2.7.0 ok\r\n", "535 5.7.8 no\r\n"])))
        }
        for _ in 0..<Int.random(in: 0..<4, using: &rng) {
            transaction(into: &steps)
        }
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:
            steps.append(.client(verb("STARTTLS") + (chance(50) ? "\r\nMAIL FROM:<inj@x>\r\n" : "\r\n")))
            steps.append(.server("220 2.0.0 go\r\n"))
            steps.append(.client((0..<40).map { _ in UInt8.random(in: 0...255, using: &rng) }))
            steps.append(.server((0..<40).map { _ in UInt8.random(in: 0...255, using: &rng) }))
            steps.append(.clientClose)
            steps.append(.serverClose)
        case 1:
            steps.append(.client("QUIT\r\nNOOP\r\n"))
            steps.append(.server("221 2.0.0 bye\r\n"))
            steps.append(.serverClose)
        case 2:
            steps.append(.clientClose)
        default:
            steps.append(.client(verb("QUIT") + "\r\n"))
            steps.append(.server("221 2.0.0 bye\r\n"))
            steps.append(.serverClose)
            steps.append(.clientClose)
        }
        return steps
    }

    private mutating func transaction(into steps: inout [Step]) {
        var batch = ""
        var replies = ""
        for _ in 0..<Int.random(in: 0..<3, using: &rng) {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: batch += verb("VRFY") + space() + "root" + eol()
            case 1: batch += verb("EXPN") + " staff\r\n"
            case 2: batch += verb("XEXCH50") + " 10 2\r\n"
            case 3: batch += verb("NOOP") + "\r\n"; replies += "250 2.0.0 Ok\r\n"
            case 4: batch += "XUNKNOWN arg\r\n"; replies += "502 5.5.2 Error: command not recognized\r\n"
            default: batch += verb("RSET") + "\r\n"; replies += "250 2.0.0 Ok\r\n"
            }
        }
        batch += verb("MAIL") + space() + "FROM:<a@test>" + (chance(30) ? " SIZE=100 BODY=8BITMIME" : "") + eol()
        replies += "250 2.1.0 Ok\r\n"
        let recipients = Int.random(in: 1..<6, using: &rng)
        for index in 0..<recipients {
            batch += verb("RCPT") + " TO:<r\(index)@test>\r\n"
            replies += index < 3 ? (chance(10) ? "550 5.1.1 unknown\r\n" : "250 2.1.5 Ok\r\n") : ""
        }
        if chance(30) {
            // BDAT: chunks follow their command without waiting.
            let chunks = Int.random(in: 1..<4, using: &rng)
            for index in 0..<chunks {
                let content = (0..<Int.random(in: 0..<50, using: &rng)).map { _ in bodyLine() }.joined(separator: "\r\n")
                batch += "BDAT \(content.utf8.count)" + (index == chunks - 1 ? " LAST" : "") + "\r\n" + content
                replies += index == chunks - 1 ? pick(["250 2.0.0 queued\r\n", "554 5.7.1 no\r\n"]) : "250 2.0.0 chunk\r\n"
            }
            steps.append(.client(batch))
            steps.append(.server(replies))
            return
        }
        batch += verb("DATA") + "\r\n"
        replies += "354 End data with <CR><LF>.<CR><LF>\r\n"
        steps.append(.client(batch))
        steps.append(.server(replies))
        var body = "Subject: generated\r\nMessage-ID: <\(UInt32.random(in: 0...UInt32.max, using: &rng))@test>\r\n\r\n"
        for _ in 0..<Int.random(in: 0..<60, using: &rng) {
            body += bodyLine() + eol()
        }
        body += ".\r\n"
        steps.append(.client(body))
        steps.append(.server(pick(["250 2.0.0 Ok: queued\r\n", "554 5.7.1 rejected\r\n"])))
    }
}
