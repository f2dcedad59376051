import Foundation
import SMTPCore
import SMTPProxy
import SMTPReplay
import Testing

/// `replay --to` past STARTTLS (issue 14, item 5): a session recorded in clear text by
/// `proxy --tls terminate --record` is re-sent to a Postfix with TLS on; the resend starts TLS
/// with it after its 220 (NIOSSL, certificate checked against the test CA) and sends the rest
/// inside. Then the ways it stops: no TLS options, another CA, a server without STARTTLS, a
/// capture that holds the TLS bytes themselves.
@Suite(.serialized) struct ResendPastSTARTTLSTests {
    let postfix: PostfixInstance
    let ca: TestCA
    let proxyCertificate: TestCA.Issued

    init() throws {
        (postfix, ca) = try TLSPostfix.instanceAndCA(name: "resend-tls")
        proxyCertificate = try ca.issue("proxy.test")
    }

    /// swaks --tls through a terminating, recording proxy in front of the TLS Postfix; the
    /// recording's path (in `directory`).
    private func record(token: String, in directory: ScratchDirectory) async throws -> String {
        let pcap = directory.file("terminated.pcap")
        let proxy = try await ProxyHarness(
            upstreamPort: postfix.port, tlsMode: .terminate, recordPath: pcap,
            tls: TLSSettings(certificatePath: proxyCertificate.certificate, keyPath: proxyCertificate.key, upstreamCAPath: ca.certificate))
        let result = try ExternalProcess.run(
            "swaks",
            [
                "--server", "127.0.0.1:\(proxy.port)", "--from", "alice@example.net", "--to", "bob@example.org", "--data", "-",
                "--tls", "--tls-verify", "--tls-ca-path", ca.certificate,
            ],
            input: Data((testMessage(token: token) + ".\r\n").utf8))
        #expect(result.status == 0, "swaks --tls through the proxy: \(result.output)\(result.error)")
        _ = proxy.waitForSessionEnds(1)
        await proxy.stop()
        #expect(postfix.waitForMessage(containing: token) != nil)
        return pcap
    }

    private func resend(_ pcap: String, port: Int? = nil, tls: ResendTLS?) throws -> ResendResult {
        var reader = ConversationReader(path: pcap)
        reader.followsSTARTTLS = tls != nil
        let conversations = try reader.conversations()
        #expect(conversations.count == 1)
        let resender = LiveResender(host: "127.0.0.1", port: port ?? postfix.port, replyTimeout: 10, closeGrace: 2, tls: tls)
        return resender.resend(try #require(conversations.first))
    }

    private func describe(_ result: ResendResult) -> String { ResendReportRenderer().table(result) }

    @Test func aRecordedTLSSessionIsResentPastSTARTTLS() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let token = uniqueToken("resend-tls")
        let pcap = try await record(token: token, in: directory)
        var reader = ConversationReader(path: pcap)
        reader.followsSTARTTLS = true
        let conversation = try #require(try reader.conversations().first)
        #expect(conversation.stop == nil)
        #expect(conversation.steps.filter(\.startsTLS).count == 1)
        let mark = postfix.quiescentMark()

        let result = try resend(pcap, tls: try ResendTLS(caFile: ca.certificate))
        #expect(result.matches, "\(describe(result))")
        #expect(result.notes.map(\.kind) == [.tls], "\(result.notes)")
        #expect(result.notes.first?.detail.contains("certificate verified") == true)
        // Greeting, EHLO, STARTTLS, then inside TLS: EHLO, MAIL, RCPT, DATA, the message, QUIT.
        #expect(result.capturedReplies == 9 && result.receivedReplies == 9 && result.sameCodes == 9, "\(describe(result))")
        #expect(result.stepsSent == result.steps && result.notResent == 0)
        // Postfix took the message a second time, over TLS, from the resend.
        let log = postfix.waitForSessions(since: mark)
        #expect(log.contains("TLS connection established from localhost"), "\(log)")
        #expect(postfix.waitForDeliveries(2).count >= 2)
        #expect(postfix.messages(containing: token).count == 2)
    }

    @Test func withoutTLSOptionsTheResendStopsAtSTARTTLS() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let pcap = try await record(token: uniqueToken("resend-notls"), in: directory)
        let result = try resend(pcap, tls: nil)
        #expect(result.matches, "\(describe(result))")
        #expect(result.notes.map(\.kind) == [.startTLS])
        #expect(result.sameCodes == 3)
        #expect(result.notes.first?.detail.contains("with --upstream-ca or --upstream-insecure") == true)
    }

    @Test func aCertificateFromAnotherCAFailsTheHandshake() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let pcap = try await record(token: uniqueToken("resend-badca"), in: directory)
        let stranger = try TestCA(name: "another CA")
        let result = try resend(pcap, tls: try ResendTLS(caFile: stranger.certificate))
        #expect(!result.matches)
        let failure = try #require(result.notes.first { $0.kind == .tlsFailed }, "\(result.notes)")
        #expect(failure.detail.contains("the rest was not resent"), "\(failure.detail)")
        #expect(result.notResent == 6 && result.sameCodes == 3, "\(describe(result))")
        // Nothing was sent in clear text after the failed handshake.
        #expect(result.stepsSent == 3)

        let insecure = try resend(pcap, tls: try ResendTLS(caFile: nil, insecure: true))
        #expect(insecure.matches, "\(describe(insecure))")
        #expect(insecure.notes.first?.detail.contains("not verified (--upstream-insecure)") == true)
    }

    /// A live server that does not offer STARTTLS answers it with 502: the resend reports the
    /// difference and stops there rather than sending the TLS part in clear text.
    @Test func aServerWithoutSTARTTLSStopsTheResend() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let pcap = try await record(token: uniqueToken("resend-plain"), in: directory)
        let plain = try DedicatedPostfix.instance("resend-no-tls")
        let result = try resend(pcap, port: plain.port, tls: try ResendTLS(caFile: ca.certificate))
        #expect(!result.matches)
        let starttls = try #require(result.differences.first { $0.verb == "STARTTLS" }, "\(describe(result))")
        #expect(starttls.kind == .code && starttls.captured?.code == 220 && starttls.received?.code == 502)
        let note = try #require(result.notes.first { $0.kind == .startTLS })
        #expect(note.detail.contains("here: the rest of the session is TLS and was not resent"), "\(note.detail)")
        #expect(result.notResent == 6 && result.stepsSent == 3)
    }

    /// A wire capture holds the TLS records themselves: with TLS options the resend still stops
    /// at the STARTTLS, and says why.
    @Test func anEncryptedCaptureStillStopsAtSTARTTLS() throws {
        let result = try resend(ProxyHarness.repositoryRoot + "/captures/swaks-starttls.pcap", tls: try ResendTLS(caFile: ca.certificate))
        #expect(result.matches, "\(describe(result))")
        #expect(result.notes.map(\.kind) == [.startTLS])
        #expect(result.notes.first?.detail.contains("the capture holds it encrypted") == true)
        #expect(result.sameCodes == 3)
    }

    @Test func theCommandLineTakesTheOptions() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let pcap = try await record(token: uniqueToken("resend-cli"), in: directory)
        let run = try ProxyProcess.runToExit([
            "replay", pcap, "--to", "127.0.0.1:\(postfix.port)", "--upstream-ca", ca.certificate, "--format", "json",
        ])
        #expect(run.status == 0, "\(run.error)\(run.output)")
        #expect(run.output.contains(#""event":"resend-note","kind":"tls""#), "\(run.output)")
        #expect(run.output.contains(#""result":"match""#))

        let missingCA = try ProxyProcess.runToExit(["replay", pcap, "--to", "127.0.0.1:\(postfix.port)", "--upstream-ca", directory.file("none.pem")])
        #expect(missingCA.status == 2)
        #expect(missingCA.error.hasPrefix("smtp-inspect: cannot load --upstream-ca") && missingCA.error.split(separator: "\n").count == 1, "\(missingCA.error)")
        let withoutTo = try ProxyProcess.runToExit(["replay", pcap, "--upstream-insecure"])
        #expect(withoutTo.status == 2 && withoutTo.error.contains("apply with --to"), "\(withoutTo.error)")
        let both = try ProxyProcess.runToExit(["replay", pcap, "--to", "127.0.0.1:1", "--upstream-insecure", "--upstream-ca", ca.certificate])
        #expect(both.status == 2 && both.error.contains("exclude each other"), "\(both.error)")
    }
}
