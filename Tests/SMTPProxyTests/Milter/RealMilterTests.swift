import Foundation
import NIOCore
import NIOPosix
import SMTPCore
import SMTPFilters
import SMTPServices
import Testing

/// The milter client against the real milters from Debian (rspamd, clamav-milter + clamd,
/// OpenDKIM), started by the tests: a whole session (connect … end of message) driven through
/// `MilterConsultant` directly, as the engine's driver does.
@Suite(.serialized)
struct RealMilterTests {
    static let gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

    static func message(subject: String, body: [String], from: String = "alice@example.test", extraHeaders: [String] = []) -> [UInt8] {
        crlfMessage(
            [
                "From: Alice <\(from)>", "To: Bob <bob@example.org>", "Subject: \(subject)",
                "Message-ID: <\(UUID().uuidString)@example.test>", "Date: Mon, 07 Dec 2026 21:00:00 +0000",
            ] + extraHeaders + [""] + body)
    }

    static func milter(_ name: String, port: Int, onError: MilterSettings.OnError = .tempfail, timeout: Duration = .seconds(60)) -> MilterSettings {
        MilterSettings(name: name, socket: .inet(host: "127.0.0.1", port: port), timeout: timeout, onError: onError)
    }

    static func withDriver<T>(_ milters: [MilterSettings], _ body: (MilterSessionDriver) async throws -> T) async throws -> T {
        let group = MultiThreadedEventLoopGroup.singleton  // never shut down: a milter task may finish after a test
        let consultant = MilterConsultant(milters: milters, hostname: "mx.example.test")
        let driver = MilterSessionDriver(consultant, eventLoop: group.next())
        do {
            let result = try await body(driver)
            await driver.end()
            return result
        } catch {
            await driver.end()
            throw error
        }
    }

    static func text(_ data: Data?) -> String { data.map { String(decoding: $0, as: UTF8.self) } ?? "" }

    // MARK: - rspamd

    @Test func rspamdRefusesGTUBEWithItsOwnReply() async throws {
        let rspamd = try RspamdMilter.shared()
        let run = try await Self.withDriver([Self.milter("rspamd", port: rspamd.milterPort)]) { driver in
            try await driver.run(message: Self.message(subject: "gtube", body: ["This is spam.", Self.gtube]))
        }
        for event in run.events {
            print("GTUBE session event:", AuditEvent(timestamp: SMTPTimestamp(seconds: 0), session: "gtube", kind: event).jsonLine)
        }
        let refusal = try #require(run.refusal)
        #expect(refusal.stage == .endOfMessage)
        guard case .reply(let reply) = refusal.verdict.action else {
            Issue.record("expected a reply, got \(refusal.verdict.action)")
            return
        }
        #expect(reply.code == 554)
        #expect(reply.text.contains("Gtube pattern"))
        let eom = try #require(run.milterRecords.last)
        #expect(eom.milter == "rspamd" && eom.stage == "eom" && eom.verdict == "replycode")
        #expect(eom.reply?.contains("Gtube pattern") == true)
        #expect(try run.forwarded() == nil)
        // Every stage before the content was asked and answered `continue`.
        #expect(run.milterRecords.dropLast().map(\.stage) == ["connect", "helo", "mail", "rcpt", "data"].filter { stage in
            run.milterRecords.contains { $0.stage == stage }
        })
        #expect(run.milterRecords.dropLast().allSatisfy { $0.verdict == "continue" })
    }

    @Test func rspamdAddsItsHeadersToACleanMessage() async throws {
        let rspamd = try RspamdMilter.shared()
        let body = ["Hello Bob,", "", ".a line starting with a dot", "the report is attached.", "Alice"]
        let original = Self.message(subject: "quarterly report", body: body)
        let run = try await Self.withDriver([Self.milter("rspamd", port: rspamd.milterPort)]) { driver in
            try await driver.run(message: original)
        }
        #expect(run.refusal == nil)
        let forwarded = Self.text(try run.forwarded())
        #expect(forwarded.contains("X-Spamd-Result: "), "forwarded: \(forwarded)")
        #expect(forwarded.contains("X-Rspamd-Server: "))
        // The original header and body are all still there, body byte for byte.
        let originalText = String(decoding: original, as: UTF8.self)
        let originalBody = originalText[originalText.range(of: "\r\n\r\n")!.upperBound...]
        #expect(forwarded.hasSuffix(originalBody))
        #expect(forwarded.hasPrefix("From: Alice <alice@example.test>\r\n"))
        let eom = try #require(run.milterRecords.last)
        #expect(eom.stage == "eom" && eom.verdict == "accept" || eom.verdict == "continue")
        #expect(eom.modifications.contains { ["add-header", "insert-header", "change-header"].contains($0.kind) })
    }

    // MARK: - clamav-milter

    static func withAttachment(_ content: String, name: String) -> [UInt8] {
        let encoded = Data(content.utf8).base64EncodedString()
        return message(
            subject: "attachment \(name)",
            body: [
                "This is a multi-part message in MIME format.", "", "--BOUNDARY", "Content-Type: text/plain; charset=us-ascii", "",
                "Please find the file attached.", "", "--BOUNDARY", "Content-Type: application/octet-stream; name=\"\(name)\"",
                "Content-Transfer-Encoding: base64", "Content-Disposition: attachment; filename=\"\(name)\"", "", encoded, "",
                "--BOUNDARY--",
            ],
            extraHeaders: ["MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=\"BOUNDARY\""])
    }

    @Test func clamavRefusesTheEICARAttachment() async throws {
        let clamav = try ClamAVMilter.shared()
        let run = try await Self.withDriver([Self.milter("clamav", port: clamav.milterPort)]) { driver in
            try await driver.run(message: Self.withAttachment(ClamAVMilter.eicar, name: "eicar.com"))
        }
        let refusal = try #require(run.refusal)
        #expect(refusal.stage == .endOfMessage)
        guard case .reply(let reply) = refusal.verdict.action else {
            Issue.record("expected a reply, got \(refusal.verdict.action)")
            return
        }
        #expect(reply.codeClass == 5)
        let eom = try #require(run.milterRecords.last)
        #expect(eom.milter == "clamav" && eom.stage == "eom" && ["reject", "replycode"].contains(eom.verdict))
        #expect(try run.forwarded() == nil)
    }

    @Test func clamavPassesACleanAttachment() async throws {
        let clamav = try ClamAVMilter.shared()
        let run = try await Self.withDriver([Self.milter("clamav", port: clamav.milterPort)]) { driver in
            try await driver.run(message: Self.withAttachment("just a harmless text file\n", name: "notes.txt"))
        }
        #expect(run.refusal == nil)
        let forwarded = Self.text(try run.forwarded())
        #expect(forwarded.contains("Please find the file attached."))
        #expect(forwarded.contains(Data("just a harmless text file\n".utf8).base64EncodedString()))
    }

    // MARK: - OpenDKIM

    @Test func openDKIMSignsAndTheSignatureVerifies() async throws {
        let opendkim = try OpenDKIMMilter.shared()
        let run = try await Self.withDriver([Self.milter("opendkim", port: opendkim.port)]) { driver in
            try await driver.run(
                message: Self.message(subject: "signed", body: ["A message to sign.", "", "  with some   spacing  ", "-- ", "Alice"]))
        }
        #expect(run.refusal == nil)
        let forwarded = try #require(try run.forwarded())
        let text = Self.text(forwarded)
        #expect(text.hasPrefix("DKIM-Signature: "), "\(text)")
        #expect(text.contains("d=example.test"))
        let verification = try opendkim.verify(forwarded)
        print("DKIM verification (dkimpy):", verification.output)
        #expect(verification.verified, "\(verification.output)")
        // A changed body no longer verifies: the check can fail.
        var tampered = forwarded
        tampered.append(contentsOf: Array("tampered\r\n".utf8))
        #expect(try !opendkim.verify(tampered).verified)
    }

    /// The same over a unix socket (`socket: unix:PATH`).
    @Test func openDKIMOverAUnixSocketSigns() async throws {
        let opendkim = try OpenDKIMMilter.dedicated(unixSocket: true)
        defer { opendkim.daemon.stop() }
        let path = try #require(opendkim.socketPath)
        let run = try await Self.withDriver([MilterSettings(name: "opendkim", socket: .unix(path: path), timeout: .seconds(30))]) { driver in
            try await driver.run(message: Self.message(subject: "unix", body: ["Signed over a unix socket."]))
        }
        let forwarded = try #require(try run.forwarded())
        #expect(Self.text(forwarded).hasPrefix("DKIM-Signature: "))
        #expect(try opendkim.verify(forwarded).verified)
    }

    /// Two milters in a chain: OpenDKIM reads the message as rspamd left it (its headers added)
    /// and signs it; the delivered message verifies.
    @Test func rspamdThenOpenDKIMInAChain() async throws {
        let rspamd = try RspamdMilter.shared()
        let opendkim = try OpenDKIMMilter.shared()
        let run = try await Self.withDriver([
            Self.milter("rspamd", port: rspamd.milterPort), Self.milter("opendkim", port: opendkim.port),
        ]) { driver in
            try await driver.run(message: Self.message(subject: "chained", body: ["Through two milters."]))
        }
        #expect(run.refusal == nil)
        let forwarded = try #require(try run.forwarded())
        let text = Self.text(forwarded)
        #expect(text.contains("X-Spamd-Result: "))
        #expect(text.contains("DKIM-Signature: "))
        #expect(try opendkim.verify(forwarded).verified)
        #expect(Set(run.milterRecords.filter { $0.stage == "eom" }.map(\.milter)) == ["rspamd", "opendkim"])
    }

    // MARK: - Failures of a real milter

    @Test(arguments: [MilterSettings.OnError.tempfail, .reject, .accept])
    func aMilterKilledMidMessageGivesItsOnErrorVerdict(onError: MilterSettings.OnError) async throws {
        let opendkim = try OpenDKIMMilter.dedicated()
        defer { opendkim.daemon.stop() }
        let started = ContinuousClock.now
        let run = try await Self.withDriver([Self.milter("opendkim", port: opendkim.port, onError: onError, timeout: .seconds(10))]) { driver in
            try await driver.run(message: Self.message(subject: "killed", body: ["never signed"])) {
                opendkim.daemon.kill()
            }
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        let outcome = try #require(run.outcome)
        switch onError {
        case .tempfail: #expect(outcome.verdict.action == .reply(SMTPReply(code: 451, "4.7.1 Service unavailable - try again later")))
        case .reject: #expect(outcome.verdict.action == .reply(SMTPReply(code: 550, "5.7.1 Service unavailable")))
        case .accept:
            #expect(outcome.verdict.action == .proceed)
            #expect(!Self.text(try run.forwarded()).contains("DKIM-Signature"))
        }
        let eom = try #require(run.milterRecords.last)
        #expect(eom.verdict == "error" && eom.stage == "eom")
        #expect(run.anomalies.contains { $0.kind == "milter-error" && $0.detail.hasPrefix("opendkim: closed") }, "\(run.anomalies)")
    }
}
