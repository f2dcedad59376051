import Testing

@testable import SMTPProxy

/// The cipher suite read from the first octets the TLS server sends: a ServerHello in any
/// version, whatever the session id's length, and nothing from anything else.
@Suite struct ServerHelloObserverTests {
    /// A record header and ServerHello up to its cipher suite, with `sessionID` octets of id.
    static func serverHello(sessionID: Int, suite: UInt16, recordType: UInt8 = 0x16, handshakeType: UInt8 = 0x02) -> [UInt8] {
        [recordType, 0x03, 0x03, 0x00, 0x7A, handshakeType, 0x00, 0x00, 0x76, 0x03, 0x03]
            + [UInt8](repeating: 0xAB, count: 32) + [UInt8(sessionID)] + [UInt8](repeating: 0xCD, count: sessionID)
            + [UInt8(suite >> 8), UInt8(suite & 0xFF), 0x00]
    }

    @Test func tls13WithAnEchoedSessionID() {
        let hello = Self.serverHello(sessionID: 32, suite: 0x1302)
        #expect(ServerHelloObserver.cipherSuite(in: hello) == .found(TLSCipherSuite(code: 0x1302)))
        #expect(TLSCipherSuite(code: 0x1302).name == "TLS_AES_256_GCM_SHA384" && TLSCipherSuite(code: 0x1302).keySize == 256)
    }

    @Test func tls12WithoutASessionID() {
        let hello = Self.serverHello(sessionID: 0, suite: 0xC02F)
        #expect(ServerHelloObserver.cipherSuite(in: hello) == .found(TLSCipherSuite(code: 0xC02F)))
        #expect(TLSCipherSuite(code: 0xC02F).name == "ECDHE-RSA-AES128-GCM-SHA256" && TLSCipherSuite(code: 0xC02F).keySize == 128)
    }

    @Test func everyShorterPrefixAsksForMore() {
        let hello = Self.serverHello(sessionID: 32, suite: 0x1301)
        for length in 0..<(hello.count - 1) {
            #expect(ServerHelloObserver.cipherSuite(in: Array(hello.prefix(length))) == .needMore, "\(length) octets")
        }
    }

    @Test func anythingElseIsNotAServerHello() {
        #expect(ServerHelloObserver.cipherSuite(in: Self.serverHello(sessionID: 0, suite: 0x1301, recordType: 0x15)) == .notServerHello)
        #expect(ServerHelloObserver.cipherSuite(in: Self.serverHello(sessionID: 0, suite: 0x1301, handshakeType: 0x01)) == .notServerHello)
        #expect(ServerHelloObserver.cipherSuite(in: Self.serverHello(sessionID: 33, suite: 0x1301)) == .notServerHello)
        #expect(TLSCipherSuite(code: 0xFFFF).name == "0xFFFF" && TLSCipherSuite(code: 0xFFFF).keySize == 0)
    }
}
