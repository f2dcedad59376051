@testable import SMTPReplay
import Testing

@Suite("SMTPSessionDetector")
struct SMTPSessionDetectorTests {
    func detect(initiator: String, responder: String, ended: Bool = false) -> SMTPSessionDetector.Verdict {
        detect(initiator: Array(initiator.utf8), responder: Array(responder.utf8), ended: ended)
    }

    func detect(initiator: [UInt8], responder: [UInt8], ended: Bool = false) -> SMTPSessionDetector.Verdict {
        initiator.withUnsafeBytes { a in
            responder.withUnsafeBytes { b in
                SMTPSessionDetector.detect(initiator: .init(bytes: a, ended: ended), responder: .init(bytes: b, ended: ended))
            }
        }
    }

    static let serverIsResponder = SMTPSessionDetector.Verdict.smtp(.init(serverDirection: .fromResponder))
    static let serverIsInitiator = SMTPSessionDetector.Verdict.smtp(.init(serverDirection: .fromInitiator))

    @Test(arguments: [
        // Greeting, then the client's first command.
        ("EHLO client\r\n", "220 mx ESMTP\r\n", false, serverIsResponder),
        ("helo x\r\n", "220-mx\r\n220 ESMTP\r\n", false, serverIsResponder),
        ("QUIT\r\n", "554 no SMTP service here\r\n", false, serverIsResponder),
        // Binary garbage or a TLS ClientHello after an SMTP greeting is still SMTP.
        ("\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\r\n", "220 mx ESMTP\r\n", false, serverIsResponder),
        // The client speaks before the greeting (PIPE_CONNECT, early talkers).
        ("HELO x\r\nMAIL FROM:<a@b>\r\n", "", false, serverIsResponder),
        ("MAIL From: <a@b>\r\n", "", false, serverIsResponder),
        // The capture missed the SYN and the server's segment came first.
        ("220 mx ESMTP\r\n", "EHLO x\r\n", false, serverIsInitiator),
        // A command other protocols share: a reply code, or silence to the end, settles it.
        ("QUIT\r\n", "", true, serverIsResponder),
        ("AUTH LOGIN\r\n", "503 not advertised\r\n", false, serverIsResponder),
        // Only the greeting: the client never spoke.
        ("", "220 mx.google.com ESMTP\r\n", true, serverIsResponder),
        // Refused at connect (a client limit, a busy server): a 421 with an enhanced status code
        // to a client that said nothing and closed.
        ("", "421 4.7.0 Client blocked for a while, try again later\r\n", true, serverIsResponder),
    ])
    func recognisesSMTP(initiator: String, responder: String, ended: Bool, expected: SMTPSessionDetector.Verdict) {
        #expect(detect(initiator: initiator, responder: responder, ended: ended) == expected)
    }

    @Test(arguments: [
        ("USER anonymous\r\n", "220 ftp.example.org FTP server\r\n"),
        ("AUTH TLS\r\n", "220 ftp.example.org\r\n"),
        ("QUIT\r\n", "+OK POP3 ready\r\n"),
        ("a1 LOGIN x y\r\n", "* OK IMAP4rev1\r\n"),
        ("GET / HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\n"),
        ("SSH-2.0-OpenSSH_9.2\r\n", "SSH-2.0-OpenSSH_9.2\r\n"),
        // FTP's 421 has no enhanced status code.
        ("", "421 Service not available, closing control connection.\r\n"),
    ])
    func rejectsOtherProtocols(initiator: String, responder: String) {
        #expect(detect(initiator: initiator, responder: responder, ended: true) == .notSMTP)
    }

    @Test func waitsForWhatDecides() {
        // A 220 alone could be FTP: wait for the client's line.
        #expect(detect(initiator: "", responder: "220 host ready\r\n") == .needMore)
        #expect(detect(initiator: "US", responder: "220 host ready\r\n") == .needMore)
        // A line not finished yet.
        #expect(detect(initiator: "EHL", responder: "") == .needMore)
        // A 421 says SMTP only once the client has closed without a word.
        #expect(detect(initiator: "", responder: "421 4.7.0 busy\r\n") == .needMore)
        // QUIT could be POP3 or FTP: wait for the server.
        #expect(detect(initiator: "QUIT\r\n", responder: "") == .needMore)
        // Binary without line ends from one side: the other side's first line decides.
        let binary = [UInt8](repeating: 0x01, count: 2000)
        #expect(detect(initiator: binary, responder: [], ended: false) == .needMore)
        #expect(detect(initiator: binary, responder: Array("220 mx ESMTP\r\n".utf8)) == Self.serverIsResponder)
        #expect(detect(initiator: binary, responder: Array("+OK\r\n".utf8)) == .notSMTP)
    }

    @Test func skipsTunnelSetUps() {
        let connect = "CONNECT mx.example.org:25 HTTP/1.0\r\nHost: mx.example.org\r\n\r\nEHLO x\r\n"
        let established = "HTTP/1.0 200 Connection established\r\n\r\n220 mx ESMTP\r\n"
        guard case .smtp(let roles) = detect(initiator: connect, responder: established) else {
            Issue.record("HTTP CONNECT tunnel not recognised")
            return
        }
        #expect(roles.serverDirection == .fromResponder)
        #expect(roles.clientPrefix == connect.utf8.count - "EHLO x\r\n".utf8.count)
        #expect(roles.serverPrefix == established.utf8.count - "220 mx ESMTP\r\n".utf8.count)
        #expect(roles.tunnel == "HTTP CONNECT mx.example.org:25")
        // A refused CONNECT carries nothing.
        #expect(detect(initiator: connect, responder: "HTTP/1.0 403 Forbidden\r\n\r\n") == .notSMTP)

        // SOCKS5 with username/password authentication, to a domain name.
        let socksClient: [UInt8] = [5, 1, 2] + [1, 4] + Array("user".utf8) + [6] + Array("secret".utf8)
            + [5, 1, 0, 3, 14] + Array("mx.example.org".utf8) + [0, 25] + Array("EHLO x\r\n".utf8)
        let socksServer: [UInt8] = [5, 2] + [1, 0] + [5, 0, 0, 1, 10, 0, 0, 1, 0x12, 0x34] + Array("220 mx\r\n".utf8)
        guard case .smtp(let socks) = detect(initiator: socksClient, responder: socksServer) else {
            Issue.record("SOCKS5 tunnel not recognised")
            return
        }
        #expect(socks.clientPrefix == socksClient.count - 8)
        #expect(socks.serverPrefix == socksServer.count - 8)
        #expect(socks.tunnel == "SOCKS5 CONNECT mx.example.org:25")
        #expect(socks.tunnel?.contains("secret") == false)

        // SOCKS4a.
        let socks4: [UInt8] = [4, 1, 0, 25, 0, 0, 0, 1] + Array("me".utf8) + [0] + Array("mx.example.org".utf8) + [0] + Array("HELO x\r\n".utf8)
        let granted: [UInt8] = [0, 0x5A, 0, 0, 0, 0, 0, 0] + Array("220 mx\r\n".utf8)
        guard case .smtp(let four) = detect(initiator: socks4, responder: granted) else {
            Issue.record("SOCKS4a tunnel not recognised")
            return
        }
        #expect(four.tunnel == "SOCKS4 CONNECT mx.example.org:25")
    }
}
