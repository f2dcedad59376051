import SMTPCore
import SMTPFilters
import Testing

@Suite struct CommandMatchTests {
    @Test func anyMatchesEverythingEvenNoVerb() {
        #expect(CommandMatch.any.matches(.vrfy))
        #expect(CommandMatch.any.matches(SMTPVerb("XFOO")))
        #expect(CommandMatch.any.matches(nil))
    }

    @Test func verbsMatchCaseInsensitively() {
        let match = CommandMatch.verbs([SMTPVerb("vrfy"), SMTPVerb("Expn")])
        #expect(match.matches(SMTPVerb("VRFY")))
        #expect(match.matches(SMTPVerb("expn")))
        #expect(!match.matches(.mail))
        #expect(!match.matches(nil))
        #expect(match.description == "EXPN, VRFY")
    }
}
