import SMTPCore

extension PolicySettings {
    /// The settings of several rule files, in load order, as one:
    /// - each limit is the smallest that any file sets (a file can tighten, never loosen);
    /// - `banner` is the last one set;
    /// - `bare-newline` is `reject` when any file says `reject`, else `normalize`.
    ///
    ///     [limits: {max-recipients: 100}, limits: {max-recipients: 50}]  → maxRecipients 50
    public init(merging files: [RuleFileSettings]) {
        func smallest(_ value: (RuleFileSettings) -> Int?) -> Int? {
            files.compactMap(value).min()
        }
        self.init(
            banner: files.last { $0.banner != nil }?.banner,
            maxLineLength: smallest(\.maxLineLength),
            maxRecipients: smallest(\.maxRecipients),
            maxMessageSize: smallest(\.maxMessageSize),
            bareNewline: files.contains { $0.bareNewline == .reject } ? .reject : .normalize
        )
    }
}
