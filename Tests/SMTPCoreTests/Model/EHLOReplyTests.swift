import NIOCore
import SMTPCore
import Testing

@Suite struct EHLOReplyTests {
    @Test func keywordsWithParameters() {
        let model = EHLOReply(SMTPReply(code: 250, lines: ["mx", "SIZE 10240000", "AUTH PLAIN LOGIN", "AUTH=CRAM-MD5", "x-exch50", ""]))
        #expect(model.greeting == "mx")
        #expect(model.sizeLimit == 10_240_000)
        #expect(model.authMechanisms == ["PLAIN", "LOGIN", "CRAM-MD5"])
        #expect(model.keyword("X-EXCH50")?.text == "x-exch50")
        #expect(model.keywords.last?.name == "")
    }

    @Test func reframes() {
        var model = EHLOReply(SMTPReply(code: 250, lines: ["mx", "A", "B"]))
        model.keywords.removeLast()
        #expect(String(buffer: model.reply.encoded) == "250-mx\r\n250 A\r\n")
    }
}
