import Foundation
import NIOCore
import SMTPCore
import SMTPServices
import Testing

/// The request attributes per stage, as Postfix 3.7 fills them (see `PolicyRequestConformanceTests`
/// for the comparison with a real Postfix).
@Suite struct PolicyRequestTests {
    static let names = [
        "request", "protocol_state", "protocol_name", "client_address", "client_name", "client_port", "reverse_client_name",
        "server_address", "server_port", "helo_name", "sender", "recipient", "recipient_count", "queue_id", "instance", "size",
        "etrn_domain", "stress", "sasl_method", "sasl_username", "sasl_sender", "ccert_subject", "ccert_issuer",
        "ccert_fingerprint", "ccert_pubkey_fingerprint", "encryption_protocol", "encryption_cipher", "encryption_keysize",
        "policy_context",
    ]

    @Test func rcptCarriesTheTransaction() {
        let request = PolicyRequest(PolicyTestSupport.rcpt("bob@example.net", facts: PolicyTestSupport.facts(size: 1234)))
        #expect(request.attributes.map(\.name) == Self.names)
        #expect(request["request"] == "smtpd_access_policy")
        #expect(request["protocol_state"] == "RCPT")
        #expect(request["protocol_name"] == "ESMTP")
        #expect(request["client_address"] == "192.0.2.7")
        #expect(request["client_port"] == "50123")
        #expect(request["client_name"] == "unknown")
        #expect(request["server_port"] == "25")
        #expect(request["helo_name"] == "client.example")
        #expect(request["sender"] == "alice@example.org")
        #expect(request["recipient"] == "bob@example.net")
        #expect(request["recipient_count"] == "0")
        #expect(request["instance"] == "t1-1.1")
        #expect(request["size"] == "1234")
    }

    @Test func mailTakesSenderAndSizeFromTheCommand() {
        let facts = PolicyTestSupport.facts(sender: nil)
        let request = PolicyRequest(ConsultRequest(
            stage: .mail, verb: .mail, argument: "FROM:<carol@example.org> SIZE=4096", path: "carol@example.org", facts: facts))
        #expect(request["protocol_state"] == "MAIL")
        #expect(request["sender"] == "carol@example.org")
        #expect(request["size"] == "4096")
        #expect(request["instance"] == "", "Postfix names the transaction from its first RCPT on")
    }

    @Test func dataAndEndOfMessageCountRecipients() {
        let one = PolicyTestSupport.facts(recipients: ["bob@example.net"], size: 300)
        let two = PolicyTestSupport.facts(recipients: ["bob@example.net", "dan@example.net"], size: 300)
        let data = PolicyRequest(ConsultRequest(stage: .data, verb: .data, facts: one))
        #expect(data["protocol_state"] == "DATA" && data["recipient"] == "bob@example.net" && data["recipient_count"] == "1")
        let end = PolicyRequest(ConsultRequest(stage: .endOfMessage, facts: two))
        #expect(end["protocol_state"] == "END-OF-MESSAGE" && end["recipient"] == "" && end["recipient_count"] == "2")
        #expect(end["size"] == "300")
    }

    @Test func heloVrfyAndEtrnAreOutsideTransactions() {
        let facts = PolicyTestSupport.facts(sender: "leftover@example.org", size: 10)
        let helo = PolicyRequest(ConsultRequest(stage: .helo, verb: .ehlo, argument: "client.example", facts: facts))
        #expect(helo["protocol_state"] == "EHLO" && helo["sender"] == "" && helo["size"] == "0" && helo["instance"] == "")
        let vrfy = PolicyRequest(ConsultRequest(stage: .vrfy, verb: .vrfy, argument: "<bob@example.net>", facts: facts))
        #expect(vrfy["protocol_state"] == "VRFY" && vrfy["recipient"] == "bob@example.net")
        let etrn = PolicyRequest(ConsultRequest(stage: .etrn, verb: .etrn, argument: "example.net", facts: facts))
        #expect(etrn["protocol_state"] == "ETRN" && etrn["etrn_domain"] == "example.net")
        let early = PolicyRequest(ConsultRequest(stage: .helo, verb: .helo, argument: "x", facts: PolicyTestSupport.facts(helo: nil)))
        #expect(early["protocol_name"] == "SMTP" && early["helo_name"] == "x", "the name being consulted, before any was accepted")
    }

    @Test func encodedIsNameValueLinesAndAnEmptyLine() {
        var facts = PolicyTestSupport.facts()
        facts.heloName = "evil\r\ninjected=1"
        let request = PolicyRequest(PolicyTestSupport.rcpt("bob@example.net", facts: facts))
        let text = String(buffer: request.encoded)
        #expect(text.hasPrefix("request=smtpd_access_policy\nprotocol_state=RCPT\n"))
        #expect(text.hasSuffix("policy_context=\n\n"))
        #expect(text.contains("helo_name=evil  injected=1\n"), "a line end in a value cannot end the request")
        #expect(text.components(separatedBy: "\n\n").count == 2)
    }
}
