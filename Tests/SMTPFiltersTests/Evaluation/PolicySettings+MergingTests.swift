import SMTPCore
import SMTPFilters
import Testing

@Suite struct PolicySettingsMergingTests {
    @Test func nothingSetMeansNoLimitsAndNormalize() {
        #expect(PolicySettings(merging: []) == PolicySettings())
        #expect(PolicySettings(merging: [RuleFileSettings(), RuleFileSettings()]) == PolicySettings())
    }

    @Test func limitsTakeTheSmallestBannerTheLastBareNewlineRejectWins() {
        let merged = PolicySettings(merging: [
            RuleFileSettings(banner: "first", maxLineLength: 4096, maxRecipients: 100, bareNewline: .reject),
            RuleFileSettings(maxLineLength: 2048, maxMessageSize: 10_000_000),
            RuleFileSettings(banner: "last", maxLineLength: 8192, maxRecipients: 500, bareNewline: .normalize),
            RuleFileSettings(),
        ])
        #expect(merged == PolicySettings(
            banner: "last", maxLineLength: 2048, maxRecipients: 100, maxMessageSize: 10_000_000,
            bareNewline: .reject))
    }

    @Test func normalizeUnlessAFileSaysReject() {
        let merged = PolicySettings(merging: [RuleFileSettings(bareNewline: .normalize), RuleFileSettings()])
        #expect(merged.bareNewline == .normalize)
    }
}
