import IPAddressing
import SMTPCore

/// Everything of the rule set about clients across sessions (SPEC §10): the `client-limits:`
/// entries of every file, in load order, and the settings that go with them. Drivers hand it to
/// the counter store (`ClientLimitConsultant` in SMTPServices).
///
///     let limits = try RuleSet.load(paths: ["filters/"]).clientLimits
///     limits.rules.map(\.name)     // ["sessions-per-address", "auth-guessing", "harvest"]
///     limits.isEmpty               // false
public struct ClientLimits: Hashable, Sendable {
    /// The default of `settings.client-limits-track`.
    public static let defaultTrackedKeys = 100_000

    /// The counting rules, in load order.
    public var rules: [ClientLimitRule]
    /// `action: exempt` entries: their clients are never counted nor limited.
    public var exemptions: [ClientExemption]
    /// `settings.client-limits-track`: the most keys remembered (least recently seen dropped first).
    public var trackedKeys: Int
    /// `settings.greet-pause`: how long the upstream's greeting is held (nil: not held).
    public var greetPause: Duration?
    /// `settings.pregreet`.
    public var pregreet: PregreetPolicy

    public init(
        rules: [ClientLimitRule] = [], exemptions: [ClientExemption] = [], trackedKeys: Int = Self.defaultTrackedKeys,
        greetPause: Duration? = nil, pregreet: PregreetPolicy = .log
    ) {
        precondition(trackedKeys > 0, "client-limits-track is positive")
        self.rules = rules
        self.exemptions = exemptions
        self.trackedKeys = trackedKeys
        self.greetPause = greetPause
        self.pregreet = pregreet
    }

    /// No counting rule: nothing to count, nothing to consult.
    public var isEmpty: Bool { rules.isEmpty }

    /// True when an `exempt` entry covers `address` (`Endpoint.host`; a host name is never exempt).
    public func isExempt(_ address: IPAddress) -> Bool {
        exemptions.contains { $0.clients.contains { $0.contains(address) } }
    }

    /// The limits of several rule files, in load order: their entries in sequence; the smallest
    /// `client-limits-track` any file sets; the longest `greet-pause`; `pregreet: reject` when
    /// any file says so (as `PolicySettings(merging:)`, a file can tighten, never loosen).
    public init(merging files: [RuleFile]) {
        let settings = files.map(\.settings)
        self.init(
            rules: files.flatMap(\.clientLimits),
            exemptions: files.flatMap(\.clientExemptions),
            trackedKeys: settings.compactMap(\.clientLimitsTrack).min() ?? Self.defaultTrackedKeys,
            greetPause: settings.compactMap(\.greetPause).max(),
            pregreet: settings.contains { $0.pregreet == .reject } ? .reject : .log
        )
    }
}
