import Foundation
import NIOCore
import NIOPosix
import SMTPCore
import SMTPServices

/// Drives a `MilterConsultant` through one whole SMTP session the way the engine's driver does
/// (consult at CONNECT, HELO, MAIL, each RCPT, DATA; the held message at end of message), with no
/// proxy in between: what each milter answered, and what would be forwarded.
struct MilterSessionDriver {
    struct Run {
        /// Every verdict, in session order.
        var verdicts: [(stage: ConsultStage, verdict: Verdict)] = []
        /// The end-of-message outcome (nil when a verdict before it ended the transaction).
        var outcome: MilterMessageOutcome?

        /// The verdict of the first stage that did not proceed.
        var refusal: (stage: ConsultStage, verdict: Verdict)? {
            verdicts.first { if case .proceed = $0.verdict.action { false } else { true } }
        }

        var events: [AuditEvent.Kind] { verdicts.flatMap(\.verdict.events) }

        var milterRecords: [MilterRecord] {
            events.compactMap { if case .milter(let record) = $0 { record } else { nil } }
        }

        var anomalies: [(kind: String, detail: String)] {
            events.compactMap { if case .anomaly(let kind, let detail) = $0 { (kind.rawValue, detail) } else { nil } }
        }

        /// What would be forwarded upstream (unstuffed), when the message was accepted.
        func forwarded() throws -> Data? {
            guard let outcome, case .proceed = outcome.verdict.action else { return nil }
            var content = outcome.message.content()
            var data = Data()
            while let chunk = try content.next() { data.append(contentsOf: chunk.readableBytesView) }
            return data
        }
    }

    let consultant: MilterConsultant
    let eventLoop: any EventLoop
    var sessionID = "s" + String(UInt32.random(in: 1...UInt32.max), radix: 36)
    var client = Endpoint(host: "127.0.0.1", port: 40_000 + Int.random(in: 0..<20_000))

    init(_ consultant: MilterConsultant, eventLoop: any EventLoop) {
        self.consultant = consultant
        self.eventLoop = eventLoop
    }

    /// One transaction: `message` is the content with CRLF line ends, unstuffed, without the final
    /// dot. `beforeEndOfMessage` runs after DATA was answered (to kill a milter mid-message).
    func run(
        message: [UInt8], sender: String = "alice@example.test", recipients: [String] = ["bob@example.org"],
        beforeEndOfMessage: () throws -> Void = {}
    ) async throws -> Run {
        var run = Run()
        var facts = SessionFacts(sessionID: sessionID, client: client, server: Endpoint(host: "127.0.0.1", port: 25))
        func ask(_ request: ConsultRequest) async throws -> Bool {
            let verdict = try await consultant.consult(request, at: SMTPTimestamp(seconds: 0), on: eventLoop).get()
            run.verdicts.append((request.stage, verdict))
            if case .proceed = verdict.action { return true }
            return false
        }
        guard try await ask(ConsultRequest(stage: .connect, facts: facts)) else { return run }
        facts.heloName = "client.example.net"
        facts.protocolName = "ESMTP"
        guard try await ask(ConsultRequest(stage: .helo, verb: .ehlo, argument: "client.example.net", facts: facts)) else {
            return run
        }
        facts.sender = sender
        facts.transaction = 1
        guard
            try await ask(
                ConsultRequest(stage: .mail, verb: .mail, argument: "FROM:<\(sender)> SIZE=\(message.count)", path: sender, facts: facts))
        else { return run }
        for recipient in recipients {
            if try await ask(ConsultRequest(stage: .rcpt, verb: .rcpt, argument: "TO:<\(recipient)>", path: recipient, facts: facts)) {
                facts.recipients.append(recipient)
            }
        }
        guard !facts.recipients.isEmpty, try await ask(ConsultRequest(stage: .data, verb: .data, facts: facts)) else { return run }
        let spool = consultant.makeSpool()
        var offset = 0
        while offset < message.count {
            let end = min(offset + 65_536, message.count)
            try spool.append(ByteBuffer(bytes: message[offset..<end]))
            offset = end
        }
        facts.size = message.count
        try beforeEndOfMessage()
        let outcome = try await consultant.endOfMessage(spool, facts: facts, on: eventLoop).get()
        run.verdicts.append((.endOfMessage, outcome.verdict))
        run.outcome = outcome
        return run
    }

    /// Ends the session (the milters get QUIT, their connections close).
    func end() async { await consultant.endSession(sessionID).value }
}

/// A message with CRLF line ends from lines.
func crlfMessage(_ lines: [String]) -> [UInt8] {
    Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
}
