import Foundation
import SMTPCore
import SMTPFilters
import Testing

@testable import SMTPServices

/// The consultant's verdicts, driven by synthetic audit events and consults (no I/O, no clock).
@Suite struct ClientLimitConsultantTests {
    typealias F = LimitFixtures

    static let bruteForce = """
        client-limits:
          - name: auth-guessing
            count: auth-failures
            max: 5
            per: 10m
            action: ban
            for: 30m
        """

    /// One session that fails AUTH once: start, a 535, end.
    static func failedLogin(_ consultant: ClientLimitConsultant, session: String, from host: String, at seconds: Double) {
        consultant.observe([
            F.sessionStart(session, from: host, at: seconds),
            F.reply(session, at: seconds + 0.1, 535, "5.7.8 Error: authentication failed", for: "AUTH"),
            F.sessionEnd(session, at: seconds + 0.2),
        ][...])
    }

    @Test func fiveFailuresBanTheAddressUntilTheBanEnds() throws {
        let consultant = ClientLimitConsultant(limits: try F.limits(Self.bruteForce))
        let host = "198.51.100.7"
        for index in 0..<5 {
            let connect = consultant.verdict(for: F.request(.connect, session: "s\(index)", from: host), at: F.at(Double(index * 10)))
            #expect(connect == .proceed)
            Self.failedLogin(consultant, session: "s\(index)", from: host, at: Double(index * 10))
        }
        let refused = consultant.verdict(for: F.request(.connect, session: "s5", from: host), at: F.at(60))
        #expect(refused.action == .reply(SMTPReply(code: 421, "4.7.0 Client blocked for a while, try again later")))
        #expect(refused.rule == "auth-guessing")
        let until = F.at(60 + 1800)
        #expect(F.limitEvents(refused) == [LimitRecord(rule: "auth-guessing", key: host, count: 5, action: "ban", until: until)])

        // While banned: refused with the same end; another address is not.
        let later = consultant.verdict(for: F.request(.connect, session: "s6", from: host), at: F.at(600))
        #expect(F.limitEvents(later).first?.until == until)
        #expect(consultant.verdict(for: F.request(.connect, session: "o1", from: "198.51.100.8"), at: F.at(600)) == .proceed)

        // The ban ends; the failures have left the window by then: welcome back.
        #expect(consultant.verdict(for: F.request(.connect, session: "s7", from: host), at: F.at(60 + 1800)) == .proceed)
    }

    @Test func aBanUsesUpItsCountSoTheKeyIsFreeWhenItEnds() throws {
        let consultant = ClientLimitConsultant(
            limits: try F.limits(Self.bruteForce.replacingOccurrences(of: "for: 30m", with: "for: 1m")))
        let host = "198.51.100.7"
        for index in 0..<5 { Self.failedLogin(consultant, session: "s\(index)", from: host, at: Double(index)) }
        let banned = consultant.verdict(for: F.request(.connect, session: "b", from: host), at: F.at(10))
        #expect(F.limitEvents(banned).first?.until == F.at(70))
        // The failures are still within the 10-minute window, but the ban used them up.
        #expect(consultant.verdict(for: F.request(.connect, session: "c", from: host), at: F.at(70)) == .proceed)
        for index in 0..<4 { Self.failedLogin(consultant, session: "t\(index)", from: host, at: 71 + Double(index)) }
        #expect(consultant.verdict(for: F.request(.connect, session: "d", from: host), at: F.at(80)) == .proceed)
        Self.failedLogin(consultant, session: "t4", from: host, at: 81)
        #expect(consultant.verdict(for: F.request(.connect, session: "e", from: host), at: F.at(82)).action != .proceed)
    }

    @Test func theSessionThatReachesTheBanIsClosedAtItsNextAuth() throws {
        let consultant = ClientLimitConsultant(limits: try F.limits(Self.bruteForce))
        let host = "198.51.100.7"
        consultant.observe([F.sessionStart("s", from: host, at: 0)][...])
        for attempt in 0..<5 {
            #expect(consultant.verdict(for: F.request(.auth, session: "s", from: host), at: F.at(Double(attempt))) == .proceed)
            consultant.observe([F.reply("s", at: Double(attempt) + 0.5, 535, "5.7.8 Error: authentication failed", for: "AUTH")][...])
        }
        let sixth = consultant.verdict(for: F.request(.auth, session: "s", from: host), at: F.at(6))
        #expect(sixth.action == .disconnect(SMTPReply(code: 421, "4.7.0 Client blocked for a while, try again later")))
        #expect(F.limitEvents(sixth).map(\.action) == ["ban"])
    }

    @Test func onlyAuthFailureRepliesCount() throws {
        let consultant = ClientLimitConsultant(limits: try F.limits(Self.bruteForce))
        consultant.observe([F.sessionStart("s", from: "198.51.100.7", at: 0)][...])
        let notFailures: [AuditEvent] = [
            F.reply("s", at: 1, 334, "VXNlcm5hbWU6", for: "AUTH"),
            F.reply("s", at: 1, 235, "2.7.0 Authentication successful", for: "AUTH"),
            F.reply("s", at: 1, 454, "4.7.0 Temporary authentication failure", for: "AUTH"),
            F.reply("s", at: 1, 535, "5.7.8 Error", for: "MAIL"),
            F.reply("s", at: 1, 450, "4.7.1 slow down", for: "AUTH", local: true),
        ]
        for _ in 0..<5 { consultant.observe(notFailures[...]) }
        #expect(consultant.verdict(for: F.request(.auth, session: "s", from: "198.51.100.7"), at: F.at(2)) == .proceed)
        for code in [534, 538, 535] {
            consultant.observe([F.reply("s", at: 3, code, "5.7.0 no", for: "AUTH")][...])
        }
        consultant.observe([F.reply("s", at: 3, 502, "5.5.1 AUTH refused", for: "AUTH", local: true)][...])
        #expect(consultant.verdict(for: F.request(.auth, session: "s", from: "198.51.100.7"), at: F.at(4)) == .proceed)
        consultant.observe([F.reply("s", at: 3, 535, "5.7.8 no", for: "AUTH")][...])
        #expect(consultant.verdict(for: F.request(.auth, session: "s", from: "198.51.100.7"), at: F.at(4)).action != .proceed)
    }

    @Test func theEleventhConcurrentSessionIsRefusedAtConnect() throws {
        let consultant = ClientLimitConsultant(
            limits: try F.limits("client-limits:\n  - name: open\n    count: sessions\n    max: 10\n    action: reject\n"))
        let host = "203.0.113.5"
        for index in 0..<10 {
            #expect(consultant.verdict(for: F.request(.connect, session: "s\(index)", from: host), at: F.at(0)) == .proceed)
            consultant.observe([F.sessionStart("s\(index)", from: host, at: 0)][...])
        }
        let eleventh = consultant.verdict(for: F.request(.connect, session: "s10", from: host), at: F.at(1))
        #expect(eleventh.action == .reply(SMTPReply(code: 421, "4.7.0 Too many sessions from your address, try again later")))
        #expect(F.limitEvents(eleventh) == [LimitRecord(rule: "open", key: host, count: 10, action: "reject")])
        // The driver logs session-start before or after the consult: the session's own start
        // never counts against it.
        consultant.observe([F.sessionStart("s11", from: host, at: 1)][...])
        #expect(consultant.verdict(for: F.request(.connect, session: "s11", from: host), at: F.at(1)).action != .proceed)
        consultant.observe([F.sessionEnd("s11", at: 1), F.sessionEnd("s0", at: 2)][...])
        #expect(consultant.verdict(for: F.request(.connect, session: "s12", from: host), at: F.at(2)) == .proceed)
        #expect(consultant.verdict(for: F.request(.connect, session: "x", from: "203.0.113.6"), at: F.at(1)) == .proceed)
    }

    @Test func harvestingIsTarpittedAndReportedOncePerSession() throws {
        let consultant = ClientLimitConsultant(
            limits: try F.limits(
                "client-limits:\n  - name: harvest\n    count: unknown-recipients\n    max: 20\n    per: 1h\n    action: tarpit\n    delay: 5s\n"))
        let host = "203.0.113.9"
        consultant.observe([F.sessionStart("s", from: host, at: 0)][...])
        for index in 0..<20 {
            #expect(consultant.verdict(for: F.request(.rcpt, session: "s", from: host), at: F.at(Double(index))) == .proceed)
            consultant.observe([F.reply("s", at: Double(index), 550, "5.1.1 <u\(index)@example.org>: Recipient address rejected", for: "RCPT")][...])
        }
        let first = consultant.verdict(for: F.request(.rcpt, session: "s", from: host), at: F.at(30))
        #expect(first.action == .delay(.seconds(5)))
        #expect(F.limitEvents(first) == [LimitRecord(rule: "harvest", key: host, count: 20, action: "tarpit")])
        let second = consultant.verdict(for: F.request(.helo, session: "s", from: host), at: F.at(31))
        #expect(second == Verdict(.delay(.seconds(5))))
        // A new session of the same address is slowed from its first command, and says so once.
        consultant.observe([F.sessionStart("t", from: host, at: 40)][...])
        #expect(F.limitEvents(consultant.verdict(for: F.request(.helo, session: "t", from: host), at: F.at(40))).count == 1)
        // Another client is not slowed.
        consultant.observe([F.sessionStart("u", from: "203.0.113.10", at: 40)][...])
        #expect(consultant.verdict(for: F.request(.rcpt, session: "u", from: "203.0.113.10"), at: F.at(40)) == .proceed)
    }

    @Test(arguments: [
        (550, "5.7.1 Relay access denied", false),
        (550, "5.1.1 unknown", true),  // local: the proxy's own
        (451, "4.1.1 try later", false),
        (552, "5.1.1 odd", false),
    ])
    func otherRecipientRefusalsAreNotHarvesting(code: Int, text: String, local: Bool) throws {
        let consultant = ClientLimitConsultant(
            limits: try F.limits("client-limits:\n  - name: harvest\n    count: unknown-recipients\n    max: 1\n    per: 1h\n    action: reject\n"))
        consultant.observe([F.sessionStart("s", from: "203.0.113.9", at: 0), F.reply("s", at: 1, code, text, for: "RCPT", local: local)][...])
        #expect(consultant.verdict(for: F.request(.rcpt, session: "s", from: "203.0.113.9"), at: F.at(2)) == .proceed)
    }

    @Test func rejectRefusesTheCommandWith450() throws {
        let consultant = ClientLimitConsultant(
            limits: try F.limits("client-limits:\n  - name: msgs\n    count: messages\n    max: 2\n    per: 1h\n    action: reject\n"))
        let record = MessageRecord(mailFrom: "a@example.org", rcptTo: ["b@example.org"], size: 10, result: 250, messageID: nil, subject: nil)
        consultant.observe([
            F.sessionStart("s", from: "192.0.2.1", at: 0), F.event("s", at: 1, .message(record)), F.event("s", at: 2, .message(record)),
        ][...])
        let verdict = consultant.verdict(for: F.request(.mail, session: "s", from: "192.0.2.1"), at: F.at(3))
        #expect(verdict.action == .reply(SMTPReply(code: 450, "4.7.1 Too many messages, try again later")))
        #expect(F.limitEvents(verdict).map(\.action) == ["reject"])
        #expect(consultant.verdict(for: F.request(.rcpt, session: "s", from: "192.0.2.1"), at: F.at(3)) == .proceed)
    }

    @Test func refusedCommandsAndRecipientsAreCounted() throws {
        let consultant = ClientLimitConsultant(
            limits: try F.limits("""
                client-limits:
                  - name: probes
                    count: refused-commands
                    max: 2
                    per: 1m
                    action: log
                  - name: fanout
                    count: recipients
                    max: 2
                    per: 1m
                    action: reject
                    reply: "452 4.5.3 Enough for now"
                """))
        let refused = F.event("s", at: 1, .command(CommandRecord(verb: "VRFY", arg: "root", action: "reject", rule: "no-vrfy")))
        consultant.observe([F.sessionStart("s", from: "192.0.2.1", at: 0), refused, refused][...])
        let logged = consultant.verdict(for: F.request(.helo, session: "s", from: "192.0.2.1"), at: F.at(2))
        #expect(logged.action == .proceed)
        #expect(F.limitEvents(logged) == [LimitRecord(rule: "probes", key: "192.0.2.1", count: 2, action: "log")])
        consultant.observe([F.reply("s", at: 3, 250, "2.1.5 Ok", for: "RCPT"), F.reply("s", at: 3, 250, "2.1.5 Ok", for: "RCPT")][...])
        let verdict = consultant.verdict(for: F.request(.rcpt, session: "s", from: "192.0.2.1"), at: F.at(4))
        #expect(verdict.action == .reply(SMTPReply(code: 452, "4.5.3 Enough for now")))
    }

    @Test func anIPv6NetworkCountsAsOne() throws {
        let consultant = ClientLimitConsultant(
            limits: try F.limits(Self.bruteForce.replacingOccurrences(of: "action: ban", with: "key: network\n    action: ban")))
        for index in 1...5 {
            Self.failedLogin(consultant, session: "s\(index)", from: "2001:db8:1:2::\(index)", at: Double(index))
        }
        let refused = consultant.verdict(for: F.request(.connect, session: "n", from: "2001:db8:1:2:abcd::9"), at: F.at(10))
        #expect(F.limitEvents(refused).map(\.key) == ["2001:db8:1:2::/64"])
        #expect(refused.action != .proceed)
        #expect(consultant.verdict(for: F.request(.connect, session: "m", from: "2001:db8:1:3::1"), at: F.at(10)) == .proceed)
    }

    @Test func userKeysFollowTheIdentityAcrossAddresses() throws {
        let consultant = ClientLimitConsultant(
            limits: try F.limits(Self.bruteForce.replacingOccurrences(of: "action: ban", with: "key: user\n    action: ban")))
        #expect(consultant.stages(for: Endpoint(host: "192.0.2.1", port: 1)) == [.auth])
        for index in 1...5 {
            let session = "s\(index)"
            let host = "192.0.2.\(index)"
            consultant.observe([F.sessionStart(session, from: host, at: Double(index))][...])
            _ = consultant.verdict(for: F.request(.auth, session: session, from: host, user: "bob"), at: F.at(Double(index)))
            consultant.observe([F.reply(session, at: Double(index), 535, "5.7.8 failed", for: "AUTH"), F.sessionEnd(session, at: Double(index))][...])
        }
        consultant.observe([F.sessionStart("t", from: "192.0.2.99", at: 10)][...])
        let bob = consultant.verdict(for: F.request(.auth, session: "t", from: "192.0.2.99", user: "bob"), at: F.at(10))
        #expect(F.limitEvents(bob).map(\.key) == ["user:bob"])
        #expect(bob.action == .disconnect(SMTPReply(code: 421, "4.7.0 Client blocked for a while, try again later")))
        consultant.observe([F.sessionStart("u", from: "192.0.2.99", at: 10)][...])
        #expect(consultant.verdict(for: F.request(.auth, session: "u", from: "192.0.2.99", user: "alice"), at: F.at(10)) == .proceed)
        // Connecting is not refused: no identity is known at connect.
        #expect(consultant.verdict(for: F.request(.connect, session: "v", from: "192.0.2.1"), at: F.at(11)) == .proceed)
    }

    /// An AUTH that names no identity (CRAM-MD5, garbage) counts by the address, not by the
    /// identity an earlier AUTH of the same session named.
    @Test func anAuthWithoutIdentityDoesNotCountForTheLastOne() throws {
        let consultant = ClientLimitConsultant(
            limits: try F.limits(Self.bruteForce.replacingOccurrences(of: "action: ban", with: "key: user\n    action: ban")))
        consultant.observe([F.sessionStart("s", from: "192.0.2.1", at: 0)][...])
        _ = consultant.verdict(for: F.request(.auth, session: "s", from: "192.0.2.1", user: "bob"), at: F.at(1))
        consultant.observe([F.reply("s", at: 1, 535, "5.7.8 failed", for: "AUTH")][...])
        for attempt in 2...5 {
            _ = consultant.verdict(for: F.request(.auth, session: "s", from: "192.0.2.1"), at: F.at(Double(attempt)))
            consultant.observe([F.reply("s", at: Double(attempt), 535, "5.7.8 failed", for: "AUTH")][...])
        }
        consultant.observe([F.sessionEnd("s", at: 6)][...])
        // bob failed once; the address (by which the anonymous attempts count) four times.
        consultant.observe([F.sessionStart("t", from: "192.0.2.2", at: 7)][...])
        #expect(consultant.verdict(for: F.request(.auth, session: "t", from: "192.0.2.2", user: "bob"), at: F.at(7)) == .proceed)
        consultant.observe([F.sessionStart("u", from: "192.0.2.1", at: 8)][...])
        _ = consultant.verdict(for: F.request(.auth, session: "u", from: "192.0.2.1"), at: F.at(8))
        consultant.observe([F.reply("u", at: 8, 535, "5.7.8 failed", for: "AUTH")][...])
        let fifth = consultant.verdict(for: F.request(.auth, session: "u", from: "192.0.2.1"), at: F.at(9))
        #expect(F.limitEvents(fifth).map(\.key) == ["192.0.2.1"])
    }

    @Test func exemptClientsAreNeverCountedNorLimited() throws {
        let limits = try F.limits(
            Self.bruteForce + "\n  - name: trusted\n    client: [10.0.0.0/8, \"2001:db8::/32\"]\n    action: exempt\n")
        let consultant = ClientLimitConsultant(limits: limits)
        #expect(consultant.stages(for: Endpoint(host: "10.1.2.3", port: 1)).isEmpty)
        #expect(consultant.stages(for: Endpoint(host: "::ffff:10.1.2.3", port: 1)).isEmpty)
        #expect(consultant.stages(for: Endpoint(host: "2001:db8::1", port: 1)).isEmpty)
        #expect(consultant.stages(for: Endpoint(host: "192.0.2.1", port: 1)) == [.connect, .auth])
        for index in 0..<10 { Self.failedLogin(consultant, session: "s\(index)", from: "10.1.2.3", at: Double(index)) }
        #expect(consultant.store.keyCount == 0)
        #expect(consultant.verdict(for: F.request(.connect, session: "x", from: "10.1.2.3"), at: F.at(20)) == .proceed)
    }

    @Test func withoutLimitsNothingIsAskedNorKept() {
        let consultant = ClientLimitConsultant(limits: ClientLimits())
        #expect(consultant.stages(for: Endpoint(host: "192.0.2.1", port: 1)).isEmpty)
        Self.failedLogin(consultant, session: "s", from: "192.0.2.1", at: 0)
        #expect(consultant.sessions.count == 0)
        #expect(consultant.store.keyCount == 0)
    }

    @Test func dryRunLogsWhatWouldHappenAndProceeds() throws {
        let consultant = ClientLimitConsultant(limits: try F.limits(Self.bruteForce), dryRun: true)
        for index in 0..<5 { Self.failedLogin(consultant, session: "s\(index)", from: "198.51.100.7", at: Double(index)) }
        let first = consultant.verdict(for: F.request(.connect, session: "t", from: "198.51.100.7"), at: F.at(10))
        #expect(first.action == .proceed)
        #expect(F.limitEvents(first) == [
            LimitRecord(rule: "auth-guessing", key: "198.51.100.7", count: 5, action: "would-ban", until: F.at(1810)),
        ])
        let again = consultant.verdict(for: F.request(.connect, session: "u", from: "198.51.100.7"), at: F.at(20))
        #expect(again.action == .proceed)
        #expect(F.limitEvents(again).map(\.action) == ["would-ban"])
        // The session goes on; its AUTH would have been refused too, but is not logged again.
        consultant.observe([F.sessionStart("u", from: "198.51.100.7", at: 20)][...])
        #expect(consultant.verdict(for: F.request(.auth, session: "u", from: "198.51.100.7"), at: F.at(21)) == .proceed)
    }

    @Test func theSameEventsGiveTheSameVerdictsWhateverTheWallClock() throws {
        func run() throws -> [Verdict] {
            let consultant = ClientLimitConsultant(limits: try F.limits(Self.bruteForce))
            var verdicts: [Verdict] = []
            for index in 0..<8 {
                verdicts.append(consultant.verdict(for: F.request(.connect, session: "s\(index)", from: "198.51.100.7"), at: F.at(Double(index * 60))))
                Self.failedLogin(consultant, session: "s\(index)", from: "198.51.100.7", at: Double(index * 60))
            }
            return verdicts
        }
        let live = try run()
        #expect(try run() == live)
        // A failure a minute: the 6th connect (5 failures) is banned, and the two after it.
        #expect(live.map { $0.action == .proceed } == [true, true, true, true, true, false, false, false])
    }

    @Test func reloadKeepsCountersAndBansOfRulesThatStay() throws {
        let consultant = ClientLimitConsultant(limits: try F.limits(Self.bruteForce))
        for index in 0..<4 { Self.failedLogin(consultant, session: "s\(index)", from: "198.51.100.7", at: Double(index)) }
        consultant.reload(try F.limits(Self.bruteForce + "\n  - name: open\n    count: sessions\n    max: 3\n    action: reject\n"))
        Self.failedLogin(consultant, session: "s4", from: "198.51.100.7", at: 5)
        #expect(consultant.verdict(for: F.request(.connect, session: "t", from: "198.51.100.7"), at: F.at(6)).action != .proceed)
        // Renamed: a new rule, counting from zero (and the old rule's ban is lifted).
        consultant.reload(try F.limits(Self.bruteForce.replacingOccurrences(of: "auth-guessing", with: "renamed")))
        #expect(consultant.verdict(for: F.request(.connect, session: "u", from: "198.51.100.7"), at: F.at(7)) == .proceed)
    }

    @Test func trackedKeysNeverExceedTheSetting() throws {
        let consultant = ClientLimitConsultant(
            limits: try F.limits("settings:\n  client-limits-track: 50\n" + Self.bruteForce))
        for index in 0..<500 {
            Self.failedLogin(consultant, session: "s\(index)", from: "10.0.\(index / 250).\(index % 250)", at: Double(index))
            #expect(consultant.store.keyCount <= 50)
        }
        #expect(consultant.store.keyCount == 50)
    }
}

/// `filters/40-clients.yaml` as shipped: its verdicts for the attacks it names.
@Suite struct ShippedClientLimitsTests {
    typealias F = LimitFixtures

    static func consultant() throws -> ClientLimitConsultant {
        var path = #filePath
        for _ in 0..<4 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return ClientLimitConsultant(limits: try RuleSet.load(paths: [path + "/filters/40-clients.yaml"]).clientLimits)
    }

    @Test func theHostItselfIsExempt() throws {
        let consultant = try Self.consultant()
        #expect(consultant.stages(for: Endpoint(host: "127.0.0.1", port: 1)).isEmpty)
        #expect(consultant.stages(for: Endpoint(host: "::1", port: 1)).isEmpty)
        #expect(consultant.stages(for: Endpoint(host: "192.0.2.1", port: 1)).contains(.connect))
    }

    @Test func theEleventhSessionIsRefused() throws {
        let consultant = try Self.consultant()
        for index in 0..<10 {
            #expect(consultant.verdict(for: F.request(.connect, session: "s\(index)", from: "192.0.2.1"), at: F.at(0)) == .proceed)
        }
        let refused = consultant.verdict(for: F.request(.connect, session: "s10", from: "192.0.2.1"), at: F.at(0))
        #expect(F.limitEvents(refused).map(\.rule) == ["sessions-per-address"])
        #expect(refused.action != .proceed)
    }

    @Test func fiveAuthFailuresInTenMinutesBanForThirtyMinutes() throws {
        let consultant = try Self.consultant()
        for index in 0..<5 {
            ClientLimitConsultantTests.failedLogin(consultant, session: "s\(index)", from: "192.0.2.2", at: Double(index * 100))
        }
        let refused = consultant.verdict(for: F.request(.connect, session: "t", from: "192.0.2.2"), at: F.at(500))
        #expect(F.limitEvents(refused) == [LimitRecord(rule: "auth-guessing", key: "192.0.2.2", count: 5, action: "ban", until: F.at(2300))])
        #expect(consultant.verdict(for: F.request(.connect, session: "u", from: "192.0.2.2"), at: F.at(2300)) == .proceed)
    }

    @Test func twentyUnknownRecipientsTarpitFiveSeconds() throws {
        let consultant = try Self.consultant()
        consultant.observe([F.sessionStart("s", from: "192.0.2.3", at: 0)][...])
        for index in 0..<20 {
            consultant.observe([F.reply("s", at: Double(index), 550, "5.1.1 <u\(index)@example.org>: User unknown", for: "RCPT")][...])
        }
        #expect(consultant.verdict(for: F.request(.rcpt, session: "s", from: "192.0.2.3"), at: F.at(30)).action == .delay(.seconds(5)))
    }
}
