import NIOCore
import SMTPCore
import Testing

/// The engine reads the identity of AUTH PLAIN and AUTH LOGIN (RFC 4954, RFC 4616), reports it
/// to consults while it is tried, keeps it after `235`, and never keeps the password.
@Suite struct AuthenticationIdentityTests {
    static let greeting = "220 mx.example ESMTP\r\n"
    static let ehloReply = "250-mx.example\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n"
    /// The password every test uses, and its forms on the wire.
    static let password = "s3cret-pw"

    static func base64(_ text: String) -> String { base64(Array(text.utf8)) }

    static func base64(_ octets: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var index = 0
        while index < octets.count {
            let chunk = Array(octets[index..<min(index + 3, octets.count)])
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            for position in 0..<4 {
                out.append(position <= chunk.count ? alphabet[Int(value >> (18 - 6 * UInt32(position)) & 63)] : UInt8(ascii: "="))
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func plain(_ authcid: String, authzid: String = "", password: String = password) -> String {
        base64(authzid + "\0" + authcid + "\0" + password)
    }

    static func greeted(stages: Set<ConsultStage> = [], dryRun: Bool = false) -> EngineHarness {
        var h = EngineHarness(dryRun: dryRun, consultStages: stages)
        h.server(greeting)
        h.client("EHLO client.example\r\n")
        h.server(ehloReply)
        _ = h.takeToServer()
        _ = h.takeToClient()
        return h
    }

    /// After the exchange: the user a MAIL consult reports, and the password appears nowhere.
    static func expectAfterwards(_ h: inout EngineHarness, user: String?, method: String?) throws {
        h.client("MAIL FROM:<a@example.org>\r\n")
        let request = try #require(h.consults.last?.request)
        #expect(request.stage == .mail)
        #expect(request.facts.saslUsername == user)
        #expect(request.facts.saslMethod == method)
        #expect(h.engine.authenticatedUser == user)
        h.decide()
        expectNoPassword(h)
    }

    static func expectNoPassword(_ h: EngineHarness) {
        let log = h.events.map(\.jsonLine).joined(separator: "\n")
        let consulted = h.consulted.map { "\($0)" }.joined(separator: "\n")
        for secret in [password, base64(password)] {
            #expect(!log.contains(secret))
            #expect(!consulted.contains(secret))
        }
    }

    @Test func plainInitialResponseNamesTheAuthenticationIdentity() throws {
        var h = Self.greeted(stages: [.auth, .mail])
        h.client("AUTH PLAIN \(Self.plain("alice", authzid: "postmaster"))\r\n")
        let request = try #require(h.consults.first?.request)
        #expect(request.stage == .auth && request.facts.saslUsername == "alice" && request.facts.saslMethod == "PLAIN")
        #expect(h.takeToServer() == "")
        h.decide()
        #expect(h.takeToServer() == "AUTH PLAIN \(Self.plain("alice", authzid: "postmaster"))\r\n")
        #expect(h.engine.authenticatedUser == nil)  // not before the upstream's 235
        h.server("235 2.7.0 Authentication successful\r\n")
        #expect(h.takeToClient() == "235 2.7.0 Authentication successful\r\n")
        try Self.expectAfterwards(&h, user: "alice", method: "PLAIN")
    }

    @Test func plainResponseAfterTheChallengeIsHeldForAVerdictBeforeItGoesUpstream() throws {
        var h = Self.greeted(stages: [.auth, .mail])
        h.client("AUTH PLAIN\r\n")
        #expect(h.consults.first?.request.facts.saslUsername == nil)
        h.decide()
        #expect(h.takeToServer() == "AUTH PLAIN\r\n")
        h.server("334 \r\n")
        h.client(Self.plain("alice") + "\r\n")
        // The identity is known now: the response waits for a verdict, the upstream has nothing.
        let request = try #require(h.consults.first?.request)
        #expect(request.stage == .auth && request.verb == .auth && request.argument == "PLAIN")
        #expect(request.facts.saslUsername == "alice")
        #expect(h.takeToServer() == "")
        h.decide()
        #expect(h.takeToServer() == Self.plain("alice") + "\r\n")
        h.server("235 2.7.0 Authentication successful\r\n")
        #expect(h.commandEvents.map(\.arg).suffix(2) == ["PLAIN", "[redacted]"])
        try Self.expectAfterwards(&h, user: "alice", method: "PLAIN")
    }

    @Test func loginUserNameIsReadAndThePasswordIsNot() throws {
        var h = Self.greeted(stages: [.auth, .mail])
        h.client("AUTH LOGIN\r\n")
        h.decide()
        h.server("334 VXNlcm5hbWU6\r\n")
        h.client(Self.base64("bob") + "\r\n")
        #expect(h.consults.first?.request.facts.saslUsername == "bob")
        h.decide()
        h.server("334 UGFzc3dvcmQ6\r\n")
        h.client(Self.base64(Self.password) + "\r\n")
        // The password line is not a question: it goes on at once.
        #expect(h.consults.isEmpty)
        #expect(h.takeToServer() == "AUTH LOGIN\r\n\(Self.base64("bob"))\r\n\(Self.base64(Self.password))\r\n")
        h.server("235 2.7.0 Authentication successful\r\n")
        try Self.expectAfterwards(&h, user: "bob", method: "LOGIN")
    }

    @Test func loginInitialResponseIsTheUserName() throws {
        var h = Self.greeted(stages: [.auth, .mail])
        h.client("AUTH LOGIN \(Self.base64("carol"))\r\n")
        #expect(h.consults.first?.request.facts.saslUsername == "carol")
        h.decide()
        h.server("334 UGFzc3dvcmQ6\r\n")
        h.client(Self.base64(Self.password) + "\r\n")
        #expect(h.consults.isEmpty)
        h.server("235 2.7.0 Authentication successful\r\n")
        try Self.expectAfterwards(&h, user: "carol", method: "LOGIN")
    }

    @Test func withoutConsultsTheIdentityIsStillLearntAcrossAnySegmentation() throws {
        let script: [Step] = [
            .server(Self.greeting), .client("EHLO c\r\n"), .server(Self.ehloReply),
            .client("AUTH LOGIN\r\n"), .server("334 VXNlcm5hbWU6\r\n"), .client(Self.base64("dave") + "\r\n"),
            .server("334 UGFzc3dvcmQ6\r\n"), .client(Self.base64(Self.password) + "\r\n"), .server("235 2.7.0 ok\r\n"),
        ]
        // Whole, then one octet per read on both sides.
        for split in [false, true] {
            var h = EngineHarness()
            for step in script {
                switch step {
                case .client(let bytes) where split: for octet in bytes { h.client([octet]) }
                case .server(let bytes) where split: for octet in bytes { h.server([octet]) }
                default: h.run(step)
                }
            }
            #expect(h.engine.authenticatedUser == "dave")
            Self.expectNoPassword(h)
        }
    }

    @Test func responsesPipelinedBeforeTheChallengesAreReadInTheirTurn() throws {
        var h = Self.greeted(stages: [.auth])
        // A client that does not wait for the 334s: each line is still read as what it answers.
        h.client("AUTH LOGIN\r\n\(Self.base64("erin"))\r\n\(Self.base64(Self.password))\r\n")
        h.decide()
        #expect(h.takeToServer() == "AUTH LOGIN\r\n")
        h.server("334 VXNlcm5hbWU6\r\n")
        #expect(h.consults.first?.request.facts.saslUsername == "erin")
        #expect(h.takeToServer() == "")
        h.decide()
        #expect(h.takeToServer() == Self.base64("erin") + "\r\n")
        h.server("334 UGFzc3dvcmQ6\r\n")
        #expect(h.takeToServer() == Self.base64(Self.password) + "\r\n")
        h.server("235 2.7.0 ok\r\n")
        #expect(h.engine.authenticatedUser == "erin")
        Self.expectNoPassword(h)
    }

    @Test func failureAndCancelEndTheAttemptButNotAnEarlierSuccess() throws {
        var h = Self.greeted(stages: [.mail])
        h.client("AUTH PLAIN \(Self.plain("frank"))\r\n")
        h.server("535 5.7.8 Error: authentication failed\r\n")
        #expect(h.engine.authenticatedUser == nil)
        h.client("AUTH LOGIN\r\n")
        h.server("334 VXNlcm5hbWU6\r\n")
        h.client(Self.base64("grace") + "\r\n")
        h.server("334 UGFzc3dvcmQ6\r\n")
        h.client("*\r\n")
        h.server("501 5.7.0 Authentication aborted\r\n")
        try Self.expectAfterwards(&h, user: nil, method: nil)
        h.server("250 2.1.0 Ok\r\n")
        h.client("RSET\r\n")
        h.server("250 2.0.0 Ok\r\n")

        h.client("AUTH PLAIN \(Self.plain("heidi"))\r\n")
        h.server("235 2.7.0 ok\r\n")
        // A second AUTH (refused by the upstream) does not undo the first.
        h.client("AUTH PLAIN \(Self.plain("ivan"))\r\n")
        h.server("503 5.5.1 Error: already authenticated\r\n")
        try Self.expectAfterwards(&h, user: "heidi", method: "PLAIN")
    }

    @Test func anIdentityThatCannotBeTrustedIsNoIdentity() throws {
        let long = String(repeating: "u", count: 256)
        let cases: [(argument: String, user: String?)] = [
            ("PLAIN " + Self.plain(String(repeating: "u", count: 255)), String(repeating: "u", count: 255)),
            ("PLAIN " + Self.plain(long), nil),
            ("LOGIN " + Self.base64(long), nil),
            ("PLAIN !!!!", nil),
            ("PLAIN " + String(Self.plain("judy").dropLast()), nil),  // not a multiple of four
            ("PLAIN " + Self.base64("judy\0\(Self.password)"), nil),  // one NUL
            ("PLAIN " + Self.base64("\0ju\ndy\0\(Self.password)"), nil),  // a line break would end a policy line
            ("PLAIN " + Self.base64([0, 0xFF, 0xFE, 0] + Array(Self.password.utf8)), nil),  // not UTF-8
            ("PLAIN =", nil),
            ("PLAIN " + Self.base64("\0\0\(Self.password)"), nil),  // empty authcid
            ("PLAIN " + Self.plain("jürgen"), "jürgen"),
            ("CRAM-MD5", nil),
        ]
        for (argument, user) in cases {
            var h = Self.greeted(stages: [.auth])
            h.client("AUTH \(argument)\r\n")
            #expect(h.consults.first?.request.facts.saslUsername == user, "AUTH \(argument)")
        }
    }

    /// AUTH LOGIN consulted and forwarded, the upstream's `334` for the user name passed on.
    static func atUserNamePrompt() -> EngineHarness {
        var h = Self.greeted(stages: [.auth])
        h.client("AUTH LOGIN\r\n")
        h.decide()
        h.server("334 VXNlcm5hbWU6\r\n")
        _ = h.takeToClient()
        _ = h.takeToServer()
        return h
    }

    @Test func aRefusedIdentityCancelsTheUpstreamExchangeOutOfTheClientsSight() throws {
        var h = Self.atUserNamePrompt()
        h.client(Self.base64("mallory") + "\r\n")
        h.decide(Verdict(.reply(SMTPReply(code: 450, "4.7.1 Too many auth-failures, try again later")), rule: "guessing"))
        #expect(h.takeToServer() == "*\r\n")
        #expect(h.takeToClient() == "")  // behind the upstream's answer to the cancel
        h.server("501 5.7.0 Authentication aborted\r\n")
        #expect(h.takeToClient() == "450 4.7.1 Too many auth-failures, try again later\r\n")
        #expect(h.commandEvents.last?.action == "reject" && h.commandEvents.last?.rule == "guessing")
        #expect(h.replyEvents.map(\.code) == [220, 250, 334, 450])
        // The session goes on with commands.
        h.client("NOOP\r\n")
        #expect(h.takeToServer() == "NOOP\r\n")
        #expect(h.engine.authenticatedUser == nil)
    }

    @Test func aBannedIdentityIsDisconnectedBeforeThePasswordIsSent() throws {
        var h = Self.atUserNamePrompt()
        h.client("\(Self.base64("mallory"))\r\n\(Self.base64(Self.password))\r\n")
        h.decide(Verdict(.disconnect(SMTPReply(code: 421, "4.7.0 Client blocked for a while, try again later")), rule: "ban"))
        #expect(h.takeToServer() == "")
        #expect(h.takeToClient() == "421 4.7.0 Client blocked for a while, try again later\r\n")
        #expect(h.closeClient && h.closeServer)
        Self.expectNoPassword(h)
    }

    @Test func aDryRunForwardsARefusedIdentityAndSaysWhatWouldHaveHappened() throws {
        var h = Self.greeted(stages: [.auth], dryRun: true)
        h.client("AUTH PLAIN\r\n")
        h.decide()
        h.server("334 \r\n")
        h.client(Self.plain("mallory") + "\r\n")
        h.decide(Verdict(.reply(SMTPReply(code: 450, "4.7.1 no")), rule: "guessing"))
        #expect(h.takeToServer() == "AUTH PLAIN\r\n\(Self.plain("mallory"))\r\n")
        #expect(h.commandEvents.last?.action == "would-reject")
    }
}
