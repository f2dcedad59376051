import NIOCore
import SMTPCore
import SMTPReplay
import SMTPServices
import Testing

/// Replay of an AUTH LOGIN whose user name a consultant refuses (a `key: user` limit's
/// `reject`): the live engine cancels the upstream's exchange with `*` and answers the client
/// itself; the captured server never saw that `*`, so replay must answer it as a server would
/// and drop the captured replies the live upstream would never have sent, keeping every later
/// reply paired with its command — and the password the client sent anyway out of the log.
@Suite struct ReplayAuthIdentityTests {
    /// Refuses the AUTH identity `mallory` with `450 4.7.1`.
    final class RefusingUser: SessionConsultant {
        func stages(for client: Endpoint) -> Set<ConsultStage> { [.auth] }
        func consult(_ request: ConsultRequest, at time: SMTPTimestamp, on eventLoop: any EventLoop) -> EventLoopFuture<Verdict> {
            let refused = request.facts.saslUsername == "mallory"
            return eventLoop.makeSucceededFuture(
                refused ? Verdict(.reply(SMTPReply(code: 450, "4.7.1 Too many auth-failures, try again later")), rule: "guessing") : .proceed)
        }
    }

    @Test func aRefusedUserNameReplaysAsLive() {
        var options = ReplayOptions()
        options.consultants = ConsultantChain([RefusingUser()])
        var driver = ReplayDriver(source: "test.pcap", sessionPrefix: "test.pcap", options: options)
        var events: [AuditEvent] = []
        let segments = Conversation().segments([
            .server("220 mx ESMTP\r\n"),
            .client("EHLO x\r\n"), .server("250-mx\r\n250 AUTH LOGIN\r\n"),
            .client("AUTH LOGIN\r\n"), .server("334 VXNlcm5hbWU6\r\n"),
            .client("bWFsbG9yeQ==\r\n"), .server("334 UGFzc3dvcmQ6\r\n"),
            .client("c2VjcmV0\r\n"), .server("535 5.7.8 Error: authentication failed\r\n"),
            .client("MAIL FROM:<a@b>\r\n"), .server("250 ok\r\n"),
            .client("QUIT\r\n"), .server("221 bye\r\n"),
            .closeServer, .closeClient,
        ])
        for segment in segments { driver.process(segment, into: &events) }
        driver.finish(into: &events)
        #expect(events.map(\.summary) == [
            "start", "reply 220 greeting", "command EHLO forward", "reply 250 EHLO", "command AUTH forward", "reply 334 AUTH",
            "command AUTH-RESPONSE reject guessing", "reply 450 AUTH local", "command MAIL forward", "reply 250 MAIL",
            "command QUIT forward", "reply 221 QUIT", "end quit",
        ])
        let log = events.map(\.jsonLine).joined(separator: "\n")
        #expect(!log.contains("c2VjcmV0"))
        #expect(!events.contains { if case .anomaly = $0.kind { true } else { false } })
    }
}
