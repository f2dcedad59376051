/// Everything an engine needs to know about its session besides the rules.
public struct InspectionConfiguration: Sendable {
    /// The `session` field of every event.
    public var sessionID: String
    public var client: Endpoint
    public var server: Endpoint
    /// `live`, or the capture file and stream for replay.
    public var source: String
    /// Terminal rule actions become logged `would-…` verdicts and the command is forwarded.
    public var dryRun: Bool
    public var tlsMode: TLSMode
    /// Fill `InspectionEffects.clientTranscript` (for `--record`).
    public var recordsClientTranscript: Bool
    /// The client leg is encrypted from its first byte (an implicit-TLS listener, `--listen-tls`).
    public var clientTLSAtStart = false
    /// `--tls terminate --upstream-insecure`: the upstream's certificate is not verified, and
    /// `session-end` says so.
    public var upstreamUnverified = false
    /// Where the engine stops to ask its driver (`SessionAction.consult`) besides the rule set's
    /// `action: policy` rules: the union of what the driver's consultants want (client limits,
    /// milters). Empty: the engine never waits for anything but the two legs.
    public var consultStages: Set<ConsultStage> = []
    /// How long each wait may last (`SessionAction.setTimer`); nil: the engine sets no timers.
    public var timeouts: SessionTimeouts? = nil
    /// Milters are configured (SPEC §12): a message is held, not streamed — the client gets the
    /// proxy's own `354`, the content goes to the driver (`holdContent`), and only after the
    /// end-of-message verdict does the upstream get DATA and the content (`releaseHeldContent`).
    public var holdsMessages = false
    /// Each DATA message's content also goes to the driver (`holdContent`, dot-stuffing removed,
    /// the end of data excluded) while it streams upstream unchanged; a `discardHeldContent`
    /// marks the start of each message's copy. Replay uses it to show captured messages to
    /// milters at their end of data (it cannot hold them: the server's replies are captured).
    public var copiesMessages = false
    /// `proxy --xclient` (the driver names the client with XCLIENT before the greeting): the
    /// upstream trusts the proxy's XCLIENT, so `XCLIENT` is stripped from the EHLO replies the
    /// client sees and a client's own XCLIENT is refused; after a successful AUTH the engine
    /// tells an upstream whose EHLO offers XCLIENT with `LOGIN` the user (`XCLIENT LOGIN=`), out
    /// of the client's sight.
    public var xclient = false

    public init(
        sessionID: String,
        client: Endpoint,
        server: Endpoint,
        source: String = "live",
        dryRun: Bool = false,
        tlsMode: TLSMode = .passthrough,
        recordsClientTranscript: Bool = false
    ) {
        self.recordsClientTranscript = recordsClientTranscript
        self.sessionID = sessionID
        self.client = client
        self.server = server
        self.source = source
        self.dryRun = dryRun
        self.tlsMode = tlsMode
    }
}
