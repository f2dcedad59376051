import NIOCore
import SMTPCore
import Testing

@Suite struct SMTPGrammarTests {
    /// Every verb of RFC 5321 and the extensions in the seed list, as a real client writes it.
    @Test(arguments: [
        ("HELO client.example", "HELO", "client.example"),
        ("EHLO [192.0.2.1]", "EHLO", "[192.0.2.1]"),
        ("MAIL FROM:<a@b> SIZE=1024 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ314 AUTH=<>", "MAIL",
            "FROM:<a@b> SIZE=1024 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ314 AUTH=<>"),
        ("RCPT TO:<b@c> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@c", "RCPT", "TO:<b@c> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@c"),
        ("DATA", "DATA", ""),
        ("BDAT 86 LAST", "BDAT", "86 LAST"),
        ("RSET", "RSET", ""),
        ("VRFY postmaster", "VRFY", "postmaster"),
        ("EXPN staff", "EXPN", "staff"),
        ("HELP MAIL", "HELP", "MAIL"),
        ("NOOP", "NOOP", ""),
        ("QUIT", "QUIT", ""),
        ("STARTTLS", "STARTTLS", ""),
        ("AUTH PLAIN AGFAYgBj", "AUTH", "PLAIN AGFAYgBj"),
        ("TURN", "TURN", ""),
        ("ATRN example.org", "ATRN", "example.org"),
        ("ETRN @example.org", "ETRN", "@example.org"),
        ("XEXCH50 1024 2", "XEXCH50", "1024 2"),
        ("X-EXCH50 1024 2", "X-EXCH50", "1024 2"),
        ("X-LINK2STATE LAST CHUNK=abc", "X-LINK2STATE", "LAST CHUNK=abc"),
        ("X-EXPS GSSAPI", "X-EXPS", "GSSAPI"),
        ("XCLIENT ADDR=1.2.3.4", "XCLIENT", "ADDR=1.2.3.4"),
        ("\tmail\t  from:<x@y>  ", "MAIL", "from:<x@y>"),
        // Postfix splits on isspace(): VT and FF separate words too (found by the differential
        // test against Postfix: `VRFY<VT>root` reached it past a VRFY rule).
        ("VRFY\u{0B}root", "VRFY", "root"),
        ("\u{0C}vrfy\u{0C}root", "VRFY", "root"),
        ("EXPN\u{0B}\u{0C} staff\u{0B}", "EXPN", "staff"),
        ("MAIL\u{0B}FROM:\u{0C}<a@b>", "MAIL", "FROM:\u{0C}<a@b>"),
    ])
    func parsesEveryVerb(line: String, verb: String, argument: String) {
        let command = SMTPGrammar.parseCommandLine(ByteBuffer(string: line))
        #expect(command.verb.name == verb)
        #expect(command.argument == argument)
        #expect(command.verb.isKnown == (verb != "XCLIENT"))
    }

    @Test(arguments: [
        ("FROM:<a@b>", "FROM:<a@b>"),
        ("from: <a@b>", "FROM:<a@b>"),
        ("From : a@b  size=10", "FROM:<a@b> SIZE=10"),
        ("FROM:<>", "FROM:<>"),
        ("FROM:<\"x>y\"@b> BODY=8BITMIME", "FROM:<\"x>y\"@b> BODY=8BITMIME"),
        ("FROM:<a@b> SIZE=10 body=8bitmime", "FROM:<a@b> SIZE=10 BODY=8bitmime"),
        ("FROM:<a@b>SIZE=10", "FROM:<a@b> SIZE=10"),
        ("FROM:<a@b> SIZE=10 ", "FROM:<a@b> SIZE=10"),
        ("FROM:<a@b> SIZE", "FROM:<a@b> SIZE"),
        ("FROM:<a@b> SIZE=", "FROM:<a@b> SIZE="),
    ])
    func canonicalMailArgument(argument: String, canonical: String) throws {
        let command = SMTPCommand(verb: .mail, argument: argument)
        #expect(command.canonicalArgument == canonical)
        let parsed = try #require(command.transactionArgument)
        // The shortcut that shares an already canonical argument agrees with building it.
        #expect(parsed.isCanonical(argument) == (argument == parsed.canonical))
        #expect(parsed.isCanonical(parsed.canonical))
    }

    @Test func mailParametersAreTyped() throws {
        let parsed = try #require(MailTransactionArgument(parsing: "FROM:<a@b> SIZE=1024 SMTPUTF8", keyword: "FROM"))
        #expect(parsed.path == "a@b")
        #expect(parsed.parameter("SIZE")?.value == "1024")
        #expect(parsed.parameter("SMTPUTF8") == ESMTPParameter(keyword: "SMTPUTF8"))
    }

    @Test(arguments: [
        ("86 LAST", BDATArgument(size: 86, isLast: true)),
        ("0 last", BDATArgument(size: 0, isLast: true)),
        ("8192", BDATArgument(size: 8192, isLast: false)),
        ("5 X", nil),
        ("-1", nil),
        ("99999999999999999999999", nil),
        ("", nil),
    ] as [(String, BDATArgument?)])
    func bdatArgument(argument: String, expected: BDATArgument?) {
        #expect(BDATArgument(parsing: argument) == expected)
    }

    @Test func authArgumentRedaction() {
        #expect(AuthArgument(parsing: "PLAIN AGFAYgBj").redacted == "PLAIN [redacted]")
        #expect(AuthArgument(parsing: "login").redacted == "LOGIN")
        #expect(AuthArgument(parsing: "PLAIN =").redacted == "PLAIN =")
    }
}
