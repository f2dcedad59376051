import SMTPCore
import SMTPServices
import Testing

/// SPEC §11's answer table, one row per access(5) action.
@Suite struct PolicyAnswerTests {
    @Test(arguments: [
        ("OK", PolicyAnswer.proceed, "OK"),
        ("dunno", .proceed, "DUNNO"),
        ("REJECT", .reply(SMTPReply(code: 554, "5.7.1 Access denied")), "REJECT"),
        ("REJECT go away", .reply(SMTPReply(code: 554, "5.7.1 go away")), "REJECT"),
        ("DEFER later", .reply(SMTPReply(code: 450, "4.7.1 later")), "DEFER"),
        ("DEFER_IF_PERMIT Greylisted, see http://postgrey.schweikert.ch/help/example.org.html",
         .reply(SMTPReply(code: 450, "4.7.1 Greylisted, see http://postgrey.schweikert.ch/help/example.org.html")), "DEFER_IF_PERMIT"),
        ("DEFER_IF_PERMIT 4.2.0 Greylisted, see x", .reply(SMTPReply(code: 450, "4.2.0 Greylisted, see x")), "DEFER_IF_PERMIT"),
        ("REJECT 4.2.0 wrong class", .reply(SMTPReply(code: 554, "5.7.1 4.2.0 wrong class")), "REJECT"),
        ("REJECT 5.7.9 own code", .reply(SMTPReply(code: 554, "5.7.9 own code")), "REJECT"),
        ("450 4.7.1 Rate limit exceeded", .reply(SMTPReply(code: 450, "4.7.1 Rate limit exceeded")), "4NN"),
        ("521 5.7.1 No", .reply(SMTPReply(code: 521, "5.7.1 No")), "5NN"),
        ("PREPEND X-Greylist: delayed 5 seconds by postgrey", .prepend(header: "X-Greylist: delayed 5 seconds by postgrey"), "PREPEND"),
        ("PREPEND not a header", .unsupported(reason: "PREPEND without a valid 'Name: value' header"), "PREPEND"),
        ("WARN suspicious", .warn("suspicious"), "WARN"),
        ("HOLD", .unsupported(reason: "HOLD is not supported"), "unsupported"),
        ("DISCARD spam", .unsupported(reason: "DISCARD is not supported"), "unsupported"),
        ("REDIRECT a@b", .unsupported(reason: "REDIRECT is not supported"), "unsupported"),
        ("250 fine", .unsupported(reason: "reply code 250 (only 4NN and 5NN refuse)"), "unsupported"),
        ("", .unsupported(reason: "empty action"), "unsupported"),
    ])
    func answersMapAsSpecSays(_ action: String, _ expected: PolicyAnswer, _ label: String) {
        #expect(PolicyAnswer(action: action, stage: .rcpt) == expected)
        #expect(PolicyAnswer.label(action) == label)
    }

    @Test func prependAfterTheContentIsUnsupported() {
        #expect(PolicyAnswer(action: "PREPEND X-A: b", stage: .endOfMessage)
            == .unsupported(reason: "PREPEND at END-OF-MESSAGE (the content has already been forwarded)"))
    }

    /// Control characters in the text cannot break the reply line the client gets.
    @Test func controlCharactersDoNotReachTheReply() {
        #expect(PolicyAnswer(action: "REJECT a\u{1}b\tc", stage: .rcpt) == .reply(SMTPReply(code: 554, "5.7.1 a b c")))
    }
}
