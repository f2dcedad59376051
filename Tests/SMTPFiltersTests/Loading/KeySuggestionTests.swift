@testable import SMTPFilters
import Testing

@Suite struct KeySuggestionTests {
    static let ruleKeys = ["name", "command", "argument", "ehlo-keyword", "client", "reply-code", "action", "reply",
                           "replace"]

    @Test(arguments: [
        ("comand", "command" as String?),
        ("commands", "command"),
        ("Command", "command"),
        ("ehlo_keyword", "ehlo-keyword"),
        ("reply_code", "reply-code"),
        ("rply", "reply"),
        ("clients", "client"),
        ("nmae", "name"),
        ("frobnicate", nil),
        ("x", nil),
        ("match", nil),
    ])
    func suggests(word: String, suggestion: String?) {
        #expect(KeySuggestion.closest(to: word, among: Self.ruleKeys) == suggestion)
    }

    @Test func listsAlternatives() {
        #expect(KeySuggestion.alternatives(["settings", "rules"]) == "'settings' or 'rules'")
        #expect(KeySuggestion.alternatives(["a", "b", "c"], quoted: false) == "a, b or c")
        #expect(KeySuggestion.alternatives(["only"]) == "'only'")
    }
}
