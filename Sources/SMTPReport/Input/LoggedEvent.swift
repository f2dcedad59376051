/// One SPEC §5 audit event as the JSON line spells it. Every payload field is optional: the report
/// reads what the line has and shows the rest as absent, so logs from older or newer versions
/// still render.
public struct LoggedEvent: Decodable, Sendable, Equatable {
    public struct Stripped: Decodable, Sendable, Equatable {
        public var keyword: String
        public var rule: String?
        public var action: String?
    }

    public var ts: String
    public var session: String
    public var event: String
    // session-start
    public var client: String?
    public var server: String?
    public var source: String?
    // command
    public var verb: String?
    public var arg: String?
    public var action: String?
    public var rule: String?
    public var forwarded: String?
    // reply
    public var code: Int?
    public var text: String?
    public var forVerb: String?
    public var local: Bool?
    public var rules: [String]?
    public var stripped: [Stripped]?
    // message
    public var mailFrom: String?
    public var rcptTo: [String]?
    public var size: Int?
    public var result: Int?
    public var subject: String?
    // anomaly
    public var kind: String?
    public var detail: String?
    // session-end
    public var reason: String?
    public var bytesFromClient: Int?
    public var bytesFromServer: Int?
    public var tls: String?

    enum CodingKeys: String, CodingKey {
        case ts, session, event, client, server, source, verb, arg, action, rule, forwarded, code, text
        case forVerb = "for"
        case local, rules, stripped
        case mailFrom = "mail_from"
        case rcptTo = "rcpt_to"
        case size, result, subject, kind, detail, reason
        case bytesFromClient = "bytes_from_client"
        case bytesFromServer = "bytes_from_server"
        case tls
    }
}
