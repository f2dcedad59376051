import SMTPCore
import SMTPFilters

/// Counting: what each audit event adds to the counters (SPEC §10's `count:` values).
extension ClientLimitConsultant {
    public func observe(_ events: ArraySlice<AuditEvent>) {
        for event in events {
            let now = event.timestamp.wholeMilliseconds
            switch event.kind {
            case .sessionStart(let client, _, _):
                started(event.session, client: client, at: now)
            case .sessionEnd:
                ended(event.session, at: now)
            case .reply(let reply):
                if let count = Self.count(of: reply) { record(count, session: event.session, at: now) }
            case .message:
                record(.messages, session: event.session, at: now)
            case .command(let command) where command.action == "reject":
                record(.refusedCommands, session: event.session, at: now)
            default:
                break
            }
        }
    }

    /// What a reply counts for, if anything:
    /// - AUTH answered 534, 535 or 538, or refused by the proxy with a 5xx: `auth-failures`;
    /// - RCPT answered 550, 551 or 553 with a 5.1.x status by the upstream: `unknown-recipients`;
    /// - RCPT answered 2xx: `recipients`.
    static func count(of reply: ReplyRecord) -> ClientLimitCount? {
        switch reply.forVerb {
        case "AUTH":
            if [534, 535, 538].contains(reply.code) || (reply.local && reply.code >= 500) { return .authFailures }
        case "RCPT":
            if reply.code / 100 == 2 { return .recipients }
            if !reply.local, [550, 551, 553].contains(reply.code), reply.text.hasPrefix("5.1.") { return .unknownRecipients }
        default:
            break
        }
        return nil
    }

    /// A session began: it counts as a connection (the `sessions` gauge took it at its CONNECT
    /// consult, if it was admitted; a session refused there never counts as open).
    private func started(_ id: String, client: Endpoint, at now: Int64) {
        let identity = ClientIdentity(host: client.host)
        let layout = store.layout(for: identity.address)
        if layout.limits.isEmpty { return }
        let exempt = identity.isExempt(by: layout.limits)
        sessions.upsert(id, make: { .init(client: identity, layout: layout, exempt: exempt) }) {
            $0.connectionCounted = !exempt
        }
        if exempt { return }
        for kind in layout.keys(counting: .connections) {
            store.record(.connections, for: identity.key(kind, user: nil), at: now)
        }
    }

    private func ended(_ id: String, at now: Int64) {
        guard let session = sessions.remove(id) else { return }
        for key in session.admittedKeys {
            store.record(.sessions, amount: -1, for: key, at: now)
        }
    }

    private func record(_ count: ClientLimitCount, session id: String, at now: Int64) {
        guard let session = sessions.session(id), !session.exempt else {
            return
        }
        for kind in session.layout.keys(counting: count) {
            store.record(count, for: session.client.key(kind, user: session.user), at: now)
        }
    }
}
