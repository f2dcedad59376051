import SMTPCore
import SMTPFilters

/// Judging: a consult compares the counts of the rules guarding its stage with their `max`.
extension ClientLimitConsultant {
    /// The verdict for `request` at `time` (what `consult` completes with; a driver without an
    /// event loop may call it directly).
    ///
    /// 1. A ban in force on the client's address or network (or, after AUTH, its identity) refuses:
    ///    at connect the greeting is `421 4.7.0` and the session closes before the upstream is
    ///    contacted; at a command the session is closed with `421 4.7.0`.
    /// 2. Each rule guarding the stage whose key's count has reached `max` hits, in rule order:
    ///    `log` logs (once per session at commands), `tarpit` delays (the longest delay of all
    ///    hits; logged once per session), `reject` refuses this session (`421 4.7.0`) or command
    ///    (`450 4.7.1`), `ban` bans the key for `for` (its count starts again from zero, so the
    ///    key is free when the ban ends) and refuses as a ban in force. The first refusal decides.
    ///
    /// Every hit is a `limit` event in the verdict. Under `--dry-run` the actions become
    /// `would-reject`, `would-ban`, `would-tarpit` and the verdict proceeds.
    public func verdict(for request: ConsultRequest, at time: SMTPTimestamp) -> Verdict {
        let now = time.wholeMilliseconds
        let id = request.facts.sessionID
        let known = sessions.session(id)
        let identity = known?.client ?? ClientIdentity(host: request.facts.client.host)
        let layout = store.layout(for: identity.address)
        if layout.limits.isEmpty || (known?.exempt ?? identity.isExempt(by: layout.limits)) { return .proceed }
        // The identity a consult names is the session's from now on; at AUTH it is the one being
        // tried, and an AUTH that names none (CRAM-MD5, an identity not yet sent) counts by the
        // address, not by an identity an earlier exchange named.
        var user = known?.user
        let named = request.facts.saslUsername.flatMap { $0.isEmpty ? nil : $0 }
        if named != user, named != nil || request.stage == .auth {
            user = named
            _ = sessions.update(id) { $0.user = named }
        }
        let atConnect = request.stage == .connect
        if !atConnect, !anyBannedOrReached(at: request.stage, of: layout, identity: identity, user: user, at: now) { return .proceed }
        var judgement = Judgement(dryRun: dryRun, atConnect: atConnect)

        // One look per key (address, network, identity): its ban, and the counts of the rules
        // guarding this stage that count by it. A ban in force refuses at once.
        let checked = layout.checked(at: request.stage)
        var readings = [ClientLimitStore.Reading?](repeating: nil, count: layout.slots.count)
        for kind in ClientLimitKey.allCases {
            let slots = layout.checked(at: request.stage, by: kind)
            let checksBan = (kind != .user || !atConnect) && layout.bannedKeys.contains(kind)
            if slots.isEmpty && !checksBan { continue }
            let key = identity.key(kind, user: user)
            let inspection = store.inspect(key, slots: slots, of: layout, at: now)
            if let ban = inspection.ban {
                if atConnect || !dryRun || firstReport(of: ban.rule, in: layout, session: id) {
                    judgement.ban(ban.rule, key: identity.text(kind, user: user), count: ban.count, until: ban.until)
                }
                if atConnect, dryRun { markReported(ban.rule, in: layout, session: id, identity: identity) }
                return judgement.verdict
            }
            for (slot, reading) in zip(slots, inspection.readings) { readings[slot.index] = reading }
        }

        // At connect the session then takes its place in the `sessions` gauges: added and read
        // under one lock, so of two sessions admitted at once on two event loops, one sees the
        // other. A refused session gives its place back at once.
        var admitted: [CounterKey] = []
        var othersOpen: [String: Int] = [:]
        if atConnect {
            for kind in layout.keys(counting: .sessions) {
                let key = identity.key(kind, user: nil)
                admitted.append(key)
                for reading in store.record(.sessions, for: key, at: now) { othersOpen[reading.slot.rule.name] = reading.count - 1 }
            }
        }

        // Most consults hit nothing: a rule is copied out of its slot only once its count is at `max`.
        for slot in checked {
            let current: CounterLayout.Slot
            var count: Int
            if slot.rule.count == .sessions, let open = othersOpen[slot.rule.name] {
                (current, count) = (slot, open)
            } else {
                guard let reading = readings[slot.index] else { continue }
                (current, count) = (reading.slot, reading.count)
                if atConnect, known?.connectionCounted == true, current.rule.count == .connections {
                    count -= 1  // this session's own start, already observed
                }
            }
            guard count >= current.rule.max else { continue }
            let rule = current.rule
            let key = identity.key(rule.key, user: user)
            let keyText = identity.text(rule.key, user: user)
            switch rule.action {
            case .log, .tarpit:
                if atConnect || firstReport(of: rule, in: layout, session: id) {
                    judgement.note(rule, key: keyText, count: count)
                } else {
                    judgement.noteSilently(rule)
                }
            case .reject:
                judgement.reject(rule, key: keyText, count: count)
            case .ban(let length):
                let until = now + length.wholeMilliseconds
                store.ban(key, slot: current, count: count, until: until, at: now)
                judgement.ban(rule, key: keyText, count: count, until: until)
                if atConnect, dryRun { markReported(rule, in: layout, session: id, identity: identity) }
            }
            if judgement.isDecided { break }
        }
        let verdict = judgement.verdict
        if !admitted.isEmpty {
            switch verdict.action {
            case .reply, .disconnect:
                for key in admitted { store.record(.sessions, amount: -1, for: key, at: now) }
            case .proceed, .delay, .rewrite:
                sessions.upsert(id, make: { .init(client: identity, layout: layout, exempt: false) }) { $0.admittedKeys = admitted }
            }
        }
        return verdict
    }

    /// True when a key a consult at `stage` looks at has a ban in force or a count at a guarding
    /// rule's `max`; false means the verdict is `proceed` with nothing to log (the steps below
    /// would find no ban and no hit), and a command costs one lock per key, no allocation.
    private func anyBannedOrReached(
        at stage: ConsultStage, of layout: CounterLayout, identity: ClientIdentity, user: String?, at now: Int64
    ) -> Bool {
        for kind in ClientLimitKey.allCases {
            let slots = layout.checked(at: stage, by: kind)
            if slots.isEmpty && !layout.bannedKeys.contains(kind) { continue }
            if store.isBannedOrReached(identity.key(kind, user: user), slots: slots, of: layout, at: now) { return true }
        }
        return false
    }

    /// A dry run's session went on past a ban logged at connect: its commands do not log the
    /// same ban again.
    private func markReported(_ rule: ClientLimitRule, in layout: CounterLayout, session id: String, identity: ClientIdentity) {
        guard let index = layout.slots.firstIndex(where: { $0.rule.name == rule.name }) else { return }
        sessions.upsert(id, make: { .init(client: identity, layout: layout, exempt: false) }) { $0.reported.insert(index) }
    }

    /// True the first time a session reports `rule`'s hit (a session the registry does not
    /// know reports every time).
    private func firstReport(of rule: ClientLimitRule, in layout: CounterLayout, session id: String) -> Bool {
        guard let index = layout.slots.firstIndex(where: { $0.rule.name == rule.name }) else { return true }
        return sessions.update(id) { $0.reported.insert(index).inserted } ?? true
    }
}

/// The hits of one consult, as they accumulate into a verdict.
struct Judgement {
    let dryRun: Bool
    let atConnect: Bool
    private(set) var events: [AuditEvent.Kind] = []
    private var refusal: (reply: SMTPReply, close: Bool, rule: String)?
    private var delay: Duration?

    init(dryRun: Bool, atConnect: Bool) {
        self.dryRun = dryRun
        self.atConnect = atConnect
    }

    /// A refusal was decided (in a dry run: would have been).
    private(set) var isDecided = false

    mutating func note(_ rule: ClientLimitRule, key: String, count: Int) {
        event(rule, key: key, count: count, action: rule.action.name, conditional: rule.action != .log)
        noteSilently(rule)
    }

    /// A tarpit still applies when its hit was reported earlier in the session.
    mutating func noteSilently(_ rule: ClientLimitRule) {
        if case .tarpit(let length) = rule.action, !dryRun { delay = max(delay ?? .zero, length) }
    }

    mutating func reject(_ rule: ClientLimitRule, key: String, count: Int) {
        event(rule, key: key, count: count, action: "reject", conditional: true)
        let reply =
            rule.reply
            ?? (atConnect
                ? SMTPReply(code: 421, "4.7.0 Too many \(rule.count.rawValue) from your address, try again later")
                : SMTPReply(code: 450, "4.7.1 Too many \(rule.count.rawValue), try again later"))
        refuse(reply, close: atConnect, rule: rule.name)
    }

    mutating func ban(_ rule: ClientLimitRule, key: String, count: Int, until: Int64) {
        event(rule, key: key, count: count, action: "ban", conditional: true, until: SMTPTimestamp(wholeMilliseconds: until))
        refuse(rule.reply ?? SMTPReply(code: 421, "4.7.0 Client blocked for a while, try again later"), close: true, rule: rule.name)
    }

    var verdict: Verdict {
        if let refusal, !dryRun {
            let action: Verdict.Action = refusal.close && !atConnect ? .disconnect(refusal.reply) : .reply(refusal.reply)
            return Verdict(action, rule: refusal.rule, events: events, endReason: "client-limit")
        }
        if let delay { return Verdict(.delay(delay), events: events) }
        return Verdict(.proceed, events: events)
    }

    private mutating func refuse(_ reply: SMTPReply, close: Bool, rule: String) {
        isDecided = true
        if refusal == nil { refusal = (reply, close, rule) }
    }

    private mutating func event(
        _ rule: ClientLimitRule, key: String, count: Int, action: String, conditional: Bool, until: SMTPTimestamp? = nil
    ) {
        let shown = conditional && dryRun ? "would-\(action)" : action
        events.append(.limit(LimitRecord(rule: rule.name, key: key, count: count, action: shown, until: until)))
    }
}
