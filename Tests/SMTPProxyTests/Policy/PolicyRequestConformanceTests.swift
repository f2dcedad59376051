import Foundation
import SMTPCore
import SMTPServices
import Testing

/// A real Postfix asks a recording policy server at every stage of one session; the requests
/// `PolicyRequest` builds from the same session's facts must match them attribute by attribute,
/// in the same order. Only `queue_id` (Postfix's own queue file, unknown to a proxy) and the
/// value of `instance` (an opaque transaction id: both must be empty or not at the same stages)
/// may differ.
@Suite struct PolicyRequestConformanceTests {
    @Test func requestsMatchPostfixAtEveryStage() async throws {
        let recorder = try FakePolicyServer(.answer { _ in "DUNNO" })
        defer { recorder.stop() }
        let postfix = try PostfixInstance(extraMainCF: PolicyTestSupport.postfixAskingAtEveryStage(port: recorder.port))
        defer { postfix.stop() }
        let body = "Subject: conformance\r\n\r\nline one\r\n..dot-stuffed\r\n"
        let clientPort = try await onThread { () throws -> Int in
            let smtp = try RawSMTPClient(port: postfix.port)
            _ = try smtp.readReply()
            for line in ["EHLO client.test", "MAIL FROM:<alice@example.org> SIZE=300", "RCPT TO:<bob@example.org>", "DATA"] {
                try smtp.send(line + "\r\n")
                _ = try smtp.readReply()
            }
            try smtp.send(body + ".\r\n")
            _ = try smtp.readReply()
            for line in ["VRFY bob@example.org", "ETRN example.org", "QUIT"] {
                try smtp.send(line + "\r\n")
                _ = try smtp.readReply()
            }
            return smtp.localPort
        }
        let captured = recorder.requests
        try #require(captured.count == 7, "Postfix asked \(captured.count) times: \(captured.map { $0.first { $0.0 == "protocol_state" }?.1 ?? "?" })")

        let client = Endpoint(host: "127.0.0.1", port: clientPort)
        let server = Endpoint(host: "127.0.0.1", port: postfix.port)
        func facts(helo: Bool = true, sender: String? = nil, recipients: [String] = [], size: Int? = nil) -> SessionFacts {
            SessionFacts(
                sessionID: "conf-1", client: client, server: server, heloName: helo ? "client.test" : nil, protocolName: helo ? "ESMTP" : nil,
                sender: sender, recipients: recipients, size: size, transaction: 1)
        }
        // Postfix's `size` at END-OF-MESSAGE: the content as received, dot-unstuffed, CRLF line ends.
        let contentSize = body.utf8.count - 1
        let ours = [
            ConsultRequest(stage: .helo, verb: .ehlo, argument: "client.test", facts: facts(helo: false)),
            ConsultRequest(stage: .mail, verb: .mail, argument: "FROM:<alice@example.org> SIZE=300", path: "alice@example.org", facts: facts()),
            ConsultRequest(stage: .rcpt, verb: .rcpt, argument: "TO:<bob@example.org>", path: "bob@example.org",
                           facts: facts(sender: "alice@example.org", size: 300)),
            ConsultRequest(stage: .data, verb: .data, facts: facts(sender: "alice@example.org", recipients: ["bob@example.org"], size: 300)),
            ConsultRequest(stage: .endOfMessage, facts: facts(sender: "alice@example.org", recipients: ["bob@example.org"], size: contentSize)),
            ConsultRequest(stage: .vrfy, verb: .vrfy, argument: "bob@example.org", facts: facts()),
            ConsultRequest(stage: .etrn, verb: .etrn, argument: "example.org", facts: facts()),
        ].map { PolicyRequest($0).attributes }

        for (theirs, mine) in zip(captured, ours) {
            let state = theirs.first { $0.0 == "protocol_state" }?.1 ?? "?"
            #expect(theirs.map(\.0) == mine.map(\.name), "attribute names and order at \(state)")
            for ((name, value), attribute) in zip(theirs, mine) where name == attribute.name {
                switch name {
                case "queue_id": continue
                case "instance": #expect(value.isEmpty == attribute.value.isEmpty, "instance at \(state): '\(value)' vs '\(attribute.value)'")
                default: #expect(value == attribute.value, "\(name) at \(state): Postfix '\(value)', ours '\(attribute.value)'")
                }
            }
        }
        print("Postfix's RCPT request:\n" + captured[2].map { "\($0.0)=\($0.1)" }.joined(separator: "\n"))
    }
}
