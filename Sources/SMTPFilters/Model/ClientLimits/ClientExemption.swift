import IPAddressing

/// An `action: exempt` entry of `client-limits:`: clients that are never counted nor limited.
///
///     - name: trusted
///       client: [10.0.0.0/8, "2001:db8::/32"]
///       action: exempt
public struct ClientExemption: Hashable, Sendable {
    public var name: String
    public var clients: [CIDR]
    public var location: RuleLocation?

    public init(name: String, clients: [CIDR], location: RuleLocation? = nil) {
        self.name = name
        self.clients = clients
        self.location = location
    }
}
