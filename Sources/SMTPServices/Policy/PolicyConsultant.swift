import NIOCore
import SMTPCore
import SMTPFilters

/// Answers the engine's consults for `action: policy` rules (SPEC §11) by asking their policy
/// servers, in rule order: the first answer that refuses decides; `PREPEND` headers and events
/// of every rule asked are kept. A server that fails gives its rule's `on-error` verdict (go on,
/// or `451 4.3.5`) with an `anomaly` `policy-error`; an answer the proxy does not act on is an
/// `anomaly` `policy-unsupported` and counts as `DUNNO`.
///
/// The rules are read from `rules` at each consult, so a reload (SIGHUP) takes effect for the
/// next command.
public final class PolicyConsultant: SessionConsultant {
    public static let tempfailReply = SMTPReply(code: 451, "4.3.5 Server configuration problem")

    private let rules: @Sendable () -> RuleSet
    private let client: PolicyClient
    private let observer: (any PolicyObserver)?

    public init(rules: @escaping @Sendable () -> RuleSet, client: PolicyClient = PolicyClient(), observer: (any PolicyObserver)? = nil) {
        self.rules = rules
        self.client = client
        self.observer = observer
    }

    /// The consultants for `policy`'s `action: policy` rules: one `PolicyConsultant` over the rule
    /// set, or none when it has no policy rule (a `PolicyStore` consultant factory). Pass the same
    /// `client` on every reload, so that connections to the servers are kept.
    public static func consultants(
        for policy: any InspectionPolicy, client: PolicyClient = PolicyClient(), observer: (any PolicyObserver)? = nil
    ) -> [any SessionConsultant] {
        guard let ruleSet = policy as? RuleSet, !ruleSet.policyRules.isEmpty else { return [] }
        return [PolicyConsultant(rules: { ruleSet }, client: client, observer: observer)]
    }

    /// None of its own: the engine stops wherever a policy rule matches (`PolicyDecision.consult`,
    /// `InspectionPolicy.endOfMessageConsults`) and names the rules in `ConsultRequest.policyRules`.
    public func stages(for client: Endpoint) -> Set<ConsultStage> { [] }

    public func consult(_ request: ConsultRequest, at time: SMTPTimestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Verdict> {
        let ruleSet = rules()
        let asked = request.policyRules.compactMap { name in ruleSet.policyService(named: name).map { (name, $0) } }
        guard !asked.isEmpty else { return eventLoop.makeSucceededFuture(.proceed) }
        let body = PolicyRequest(request).encoded
        return ask(asked[...], body: body, stage: request.stage, on: eventLoop, sofar: Verdict(.proceed))
    }

    /// Closes the connections to every server.
    public func shutdown() {
        client.shutdown()
    }

    /// Asks the first rule of `rules`, then the rest unless its answer decided.
    private func ask(
        _ rules: ArraySlice<(String, PolicyService)>, body: ByteBuffer, stage: ConsultStage, on eventLoop: any EventLoop,
        sofar: Verdict
    ) -> EventLoopFuture<Verdict> {
        guard let (name, service) = rules.first else { return eventLoop.makeSucceededFuture(sofar) }
        let started = NIODeadline.now()
        return client.ask(service.address, body, timeout: service.timeout, on: eventLoop).flatMap { result in
            let latency = Duration.nanoseconds((NIODeadline.now() - started).nanoseconds)
            var verdict = sofar
            verdict.rule = name
            switch result {
            case .success(let action):
                self.observer?.policyAnswered(service: service.address.description, answer: PolicyAnswer.label(action), latency: latency)
                verdict.policyAnswer = action
                switch PolicyAnswer(action: action, stage: stage) {
                case .proceed, .warn:
                    break
                case .reply(let reply):
                    verdict.action = .reply(reply)
                case .prepend(let header):
                    verdict.prependHeaders.append(header)
                case .unsupported(let reason):
                    verdict.events.append(.anomaly(.policyUnsupported, detail: "rule \(name), \(service): \(reason): \(action)"))
                }
            case .failure(let failure):
                self.observer?.policyFailed(service: service.address.description, kind: failure.kind, latency: latency)
                verdict.events.append(.anomaly(.policyError, detail: "rule \(name): \(failure) (on-error \(service.onError))"))
                verdict.policyAnswer = "error: \(failure.kind.rawValue)"
                if service.onError == .tempfail { verdict.action = .reply(Self.tempfailReply) }
            }
            if case .proceed = verdict.action {
                return self.ask(rules.dropFirst(), body: body, stage: stage, on: eventLoop, sofar: verdict)
            }
            return eventLoop.makeSucceededFuture(verdict)
        }
    }
}
