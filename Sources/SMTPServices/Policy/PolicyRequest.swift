import NIOCore
import SMTPCore

/// One Postfix SMTPD access policy request (`check_policy_service`), built from what the engine
/// knows when it consults: `name=value` lines, then an empty line.
///
/// The attributes, their order and their values at each stage are those Postfix 3.7 sends
/// (captured from a real Postfix by `PolicyRequestConformanceTests`):
///
///     request=smtpd_access_policy
///     protocol_state=RCPT
///     protocol_name=ESMTP
///     client_address=192.0.2.7
///     client_name=unknown
///     client_port=50123
///     reverse_client_name=unknown
///     server_address=127.0.0.1
///     server_port=25
///     helo_name=client.example
///     sender=alice@example.org
///     recipient=bob@example.net
///     recipient_count=0
///     queue_id=
///     instance=mq3x9a-1.1
///     size=0
///     etrn_domain=
///     stress=
///     sasl_method=
///     sasl_username=
///     sasl_sender=
///     ccert_subject=
///     ccert_issuer=
///     ccert_fingerprint=
///     ccert_pubkey_fingerprint=
///     encryption_protocol=
///     encryption_cipher=
///     encryption_keysize=0
///     policy_context=
///
/// As Postfix: `recipient_count` is 0 except at DATA and END-OF-MESSAGE, where `recipient` is
/// the only recipient or empty when there are several; `instance` is empty until the first RCPT
/// of a transaction and then names it; `size` is the `SIZE=` of MAIL, then the message's size at
/// END-OF-MESSAGE; `sender`, `size` and `instance` are empty outside a transaction. What the proxy
/// cannot know is sent as Postfix sends it when it does not know either: `client_name` and
/// `reverse_client_name` are `unknown` (Postfix with `smtpd_peername_lookup = no`), `queue_id`
/// is empty (the upstream assigns it), and so are the client-certificate attributes.
/// `sasl_method` and `sasl_username` name a successful AUTH (the identity when the engine could
/// read it: PLAIN, LOGIN); `encryption_*` the client leg's TLS when the proxy terminates it.
public struct PolicyRequest: Hashable, Sendable {
    /// The attributes in the order they are sent.
    public var attributes: [(name: String, value: String)]

    public init(_ request: ConsultRequest) {
        let facts = request.facts
        let stage = request.stage
        let inTransaction = [.mail, .rcpt, .data, .endOfMessage].contains(stage)
        let recipientCount = stage == .data || stage == .endOfMessage ? facts.recipients.count : 0
        let recipient: String =
            switch stage {
            case .rcpt: request.path ?? ""
            case .vrfy: Self.vrfyTarget(request.argument)
            case .data, .endOfMessage: facts.recipients.count == 1 ? facts.recipients[0] : ""
            default: ""
            }
        let sender = stage == .mail ? (request.path ?? "") : inTransaction ? (facts.sender ?? "") : ""
        let size: Int =
            switch stage {
            case .mail: Self.declaredSize(request.argument) ?? 0
            case .rcpt, .data, .endOfMessage: facts.size ?? 0
            default: 0
            }
        let instance = [.rcpt, .data, .endOfMessage].contains(stage) ? "\(facts.sessionID).\(facts.transaction)" : ""
        attributes = [
            ("request", "smtpd_access_policy"),
            ("protocol_state", Self.protocolState(request)),
            ("protocol_name", facts.protocolName ?? "SMTP"),
            ("client_address", facts.client.host),
            ("client_name", "unknown"),
            ("client_port", String(facts.client.port)),
            ("reverse_client_name", "unknown"),
            ("server_address", facts.server.host),
            ("server_port", String(facts.server.port)),
            // At HELO/EHLO: the name being consulted (Postfix's), not the previous one.
            ("helo_name", stage == .helo ? request.argument : facts.heloName ?? ""),
            ("sender", sender),
            ("recipient", recipient),
            ("recipient_count", String(recipientCount)),
            ("queue_id", ""),
            ("instance", instance),
            ("size", String(size)),
            ("etrn_domain", stage == .etrn ? request.argument : ""),
            ("stress", ""),
            ("sasl_method", facts.saslMethod ?? ""),
            ("sasl_username", facts.saslUsername ?? ""),
            ("sasl_sender", ""),
            ("ccert_subject", ""),
            ("ccert_issuer", ""),
            ("ccert_fingerprint", ""),
            ("ccert_pubkey_fingerprint", ""),
            ("encryption_protocol", facts.encryptionProtocol ?? ""),
            ("encryption_cipher", facts.encryptionCipher ?? ""),
            ("encryption_keysize", String(facts.encryptionKeySize ?? 0)),
            ("policy_context", ""),
        ]
    }

    /// The value of one attribute (nil when absent).
    public subscript(_ name: String) -> String? {
        attributes.first { $0.name == name }?.value
    }

    /// The request on the wire: `name=value\n` each, then `\n`. A value never carries a line
    /// end (it would end the request early): CR and LF become spaces.
    public var encoded: ByteBuffer {
        var out = ByteBuffer()
        for (name, value) in attributes {
            out.writeString(name)
            out.writeInteger(UInt8(ascii: "="))
            if value.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) {
                out.writeBytes(value.utf8.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 })
            } else {
                out.writeString(value)
            }
            out.writeInteger(UInt8(ascii: "\n"))
        }
        out.writeInteger(UInt8(ascii: "\n"))
        return out
    }

    /// Postfix's `protocol_state`: the verb as the client named it (`HELO` or `EHLO`), or
    /// `END-OF-MESSAGE`.
    static func protocolState(_ request: ConsultRequest) -> String {
        switch request.stage {
        case .endOfMessage: "END-OF-MESSAGE"
        case .connect: "CONNECT"
        default: request.verb?.name ?? request.stage.rawValue
        }
    }

    public static func == (lhs: PolicyRequest, rhs: PolicyRequest) -> Bool {
        lhs.attributes.elementsEqual(rhs.attributes) { $0.name == $1.name && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for (name, value) in attributes {
            hasher.combine(name)
            hasher.combine(value)
        }
    }

    /// `SIZE=` of a MAIL argument (`FROM:<a@b> SIZE=1024`).
    static func declaredSize(_ argument: String) -> Int? {
        MailTransactionArgument(parsing: argument, keyword: "FROM")?.parameters
            .first { $0.keyword.uppercased() == "SIZE" }?.value.flatMap { Int($0) }
    }

    /// The address VRFY asks about, as Postfix passes it on (`<bob@example.org>` → `bob@example.org`).
    static func vrfyTarget(_ argument: String) -> String {
        var text = Substring(argument)
        if text.hasPrefix("<"), text.hasSuffix(">"), text.count >= 2 { text = text.dropFirst().dropLast() }
        return String(text)
    }
}
