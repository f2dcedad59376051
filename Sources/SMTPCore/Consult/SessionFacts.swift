/// What the engine knows of a session when it consults: everything a Postfix policy request or a
/// milter's macros carry, as the engine saw it (the upstream's replies included).
public struct SessionFacts: Hashable, Sendable {
    public var sessionID: String
    public var client: Endpoint
    public var server: Endpoint
    /// The argument of the last HELO/EHLO the upstream accepted (or the one being consulted).
    public var heloName: String?
    /// `ESMTP` after EHLO, `SMTP` after HELO, nil before either.
    public var protocolName: String?
    /// The reverse path of the open transaction (without `<>`), nil outside a transaction.
    public var sender: String?
    /// Recipients the upstream accepted in the open transaction, in order.
    public var recipients: [String]
    /// The SASL mechanism and identity of a successful AUTH (the identity of AUTH PLAIN's
    /// authorization/authentication id when the engine could read it; nil otherwise).
    public var saslMethod: String?
    public var saslUsername: String?
    /// `SIZE=` declared on MAIL, or the size of the message at the end of data.
    public var size: Int?
    /// The client leg's TLS as the session-end `tls` field names it (`none`, `terminated`, …).
    public var tls: String
    /// Counts transactions (MAIL commands) of the session, from 1: Postfix's `instance` changes per
    /// transaction.
    public var transaction: Int
    /// The client leg's TLS as Postfix's policy attributes name it (`TLSv1.3`,
    /// `TLS_AES_256_GCM_SHA384`, 256), when the proxy terminates it. The engine never sees a
    /// handshake: the live driver fills these in before it consults.
    public var encryptionProtocol: String? = nil
    public var encryptionCipher: String? = nil
    public var encryptionKeySize: Int? = nil

    public init(
        sessionID: String, client: Endpoint, server: Endpoint, heloName: String? = nil, protocolName: String? = nil,
        sender: String? = nil, recipients: [String] = [], saslMethod: String? = nil, saslUsername: String? = nil,
        size: Int? = nil, tls: String = "none", transaction: Int = 0
    ) {
        self.sessionID = sessionID
        self.client = client
        self.server = server
        self.heloName = heloName
        self.protocolName = protocolName
        self.sender = sender
        self.recipients = recipients
        self.saslMethod = saslMethod
        self.saslUsername = saslUsername
        self.size = size
        self.tls = tls
        self.transaction = transaction
    }
}
