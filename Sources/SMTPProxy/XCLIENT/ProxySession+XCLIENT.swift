import SMTPCore

extension ProxySession {
    /// `--xclient`: the exchange with the upstream ended, before its greeting reached the engine.
    /// An upstream that does not offer or refuses XCLIENT is an `anomaly` `xclient-unavailable`
    /// (once per session: the handler reports once); the session goes on unchanged.
    ///
    /// The upstream leg's channel initializer installs the handler in front of the session's:
    ///
    ///     if let client = context.configuration.xclient ? origin.client : nil {
    ///         try channel.pipeline.syncOperations.addHandler(XCLIENTHandler(client: client) { outcome in
    ///             boundHandler.value.session?.xclientFinished(outcome)
    ///         })
    ///     }
    func xclientFinished(_ outcome: XCLIENTOutcome) {
        guard case .unavailable(let reason) = outcome else { return }
        unloggedEvents.append(
            AuditEvent(timestamp: .now(), session: engine.configuration.sessionID, kind: .anomaly(.xclientUnavailable, detail: reason)))
    }
}
