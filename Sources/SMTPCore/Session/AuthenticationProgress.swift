/// What the engine knows of a session's SASL exchanges (RFC 4954): the identity the client is
/// trying, and the one the upstream accepted with `235`.
///
/// The identity is read from the two mechanisms that carry it in the clear:
/// - `PLAIN` (RFC 4616): the initial response, or the line answering the first `334`, is the
///   base64 of `authzid NUL authcid NUL password`; the identity is `authcid`.
/// - `LOGIN`: the first response (the initial response, or the line answering the first `334`)
///   is the base64 of the user name; the next one is the password.
///
/// Passwords are never kept: a PLAIN response is decoded only long enough to take its `authcid`,
/// and the LOGIN password line is never decoded at all. An identity over 255 octets, not UTF-8,
/// with a control character, or in a response that is not strict base64 is no identity (nil):
/// it may end up in a policy request's `name=value` line or a milter macro.
struct AuthenticationProgress: Sendable {
    /// What the client's next response to a `334` carries.
    enum Expecting: Sendable {
        case nothing
        case plainResponse
        case loginUsername
        case loginPassword
        /// A mechanism whose responses the engine does not read (CRAM-MD5, SCRAM, …), or the
        /// rest of an exchange whose identity is known.
        case unread
    }

    private(set) var expecting = Expecting.nothing
    /// The mechanism of the exchange in progress (upper case).
    private(set) var mechanism: String?
    /// The identity of the exchange in progress, once read.
    private(set) var attempted: String?
    /// The identity and mechanism of the exchange the upstream accepted (`235`).
    private(set) var authenticated: String?
    private(set) var authenticatedMechanism: String?
    /// `--xclient`: the upstream's last EHLO reply offered XCLIENT with `LOGIN`.
    var upstreamTakesXCLIENTLogin = false

    static let maximumIdentityLength = 255
    /// authzid, authcid and password of at most 255 octets each, and two NULs.
    static let maximumPlainMessageLength = 3 * maximumIdentityLength + 2

    /// The identity consults report: the one being tried during an exchange, else the
    /// authenticated one.
    var identity: String? { attempted ?? authenticated }
    /// The mechanism consults report, likewise.
    var identityMechanism: String? { mechanism ?? authenticatedMechanism }

    /// The client sent `AUTH mechanism [initial-response]`.
    mutating func begin(_ argument: AuthArgument) {
        mechanism = argument.mechanism.isEmpty ? nil : argument.mechanism
        attempted = nil
        let response = argument.initialResponse.map { $0 == "=" ? "" : $0 }
        switch (argument.mechanism, response) {
        case ("PLAIN", nil):
            expecting = .plainResponse
        case ("PLAIN", let response?):
            attempted = Self.plainIdentity(response.utf8)
            expecting = .unread
        case ("LOGIN", nil):
            expecting = .loginUsername
        case ("LOGIN", let response?):
            attempted = Self.loginIdentity(response.utf8)
            expecting = .loginPassword
        default:
            expecting = .unread
        }
    }

    /// The client answered a `334` with `response` (the line without its end). Returns true when
    /// this response named the identity.
    mutating func respond<Octets: Collection>(_ response: Octets) -> Bool where Octets.Element == UInt8 {
        switch expecting {
        case .plainResponse:
            expecting = .unread
            attempted = Self.plainIdentity(response)
            return attempted != nil
        case .loginUsername:
            expecting = .loginPassword
            attempted = Self.loginIdentity(response)
            return attempted != nil
        case .loginPassword:
            // The password: never read.
            expecting = .unread
            return false
        case .nothing, .unread:
            return false
        }
    }

    /// The client cancelled the exchange (`*`, RFC 4954 §4).
    mutating func cancel() {
        end()
    }

    /// The reply to AUTH or to a response: `334` goes on, `235` makes the identity the session's
    /// authenticated one, anything else ends the attempt.
    mutating func concluded(code: Int) {
        switch code {
        case 334:
            return
        case 235:
            authenticated = attempted
            authenticatedMechanism = mechanism
            end()
        default:
            end()
        }
    }

    private mutating func end() {
        expecting = .nothing
        mechanism = nil
        attempted = nil
    }

    /// `authcid` of a PLAIN message `[authzid] NUL authcid NUL passwd`.
    static func plainIdentity<Octets: Collection>(_ base64: Octets) -> String? where Octets.Element == UInt8 {
        guard let message = Base64.decode(base64, maximumLength: maximumPlainMessageLength) else { return nil }
        let parts = message.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[2].contains(0) else { return nil }
        return identity(parts[1])
    }

    /// The user name of a LOGIN response.
    static func loginIdentity<Octets: Collection>(_ base64: Octets) -> String? where Octets.Element == UInt8 {
        Base64.decode(base64, maximumLength: maximumIdentityLength).flatMap { identity($0[...]) }
    }

    /// A non-empty UTF-8 name without control characters, of at most 255 octets.
    private static func identity(_ octets: ArraySlice<UInt8>) -> String? {
        guard !octets.isEmpty, octets.count <= maximumIdentityLength,
            !octets.contains(where: { $0 < 0x20 || $0 == 0x7F }),
            let name = String(validating: octets, as: UTF8.self)
        else { return nil }
        return name
    }
}
