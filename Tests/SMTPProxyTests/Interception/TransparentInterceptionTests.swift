import Testing

/// Transparent interception for real (SPEC §2, §8): three network namespaces (client, router,
/// server; see `NamespaceTopology`), Postfix in the server namespace, the built `smtp-inspect` in
/// the router namespace, and iptables/ip6tables/nft rules diverting the client's connections to
/// SERVER:25 to the proxy. The client only knows the server's address; each session must be
/// inspected (the proxy refuses VRFY, Postfix never sees it), audited under the server's
/// address, and delivered into Postfix's mailbox. Needs root (CI runs as root).
@Suite(.serialized) struct TransparentInterceptionTests {
    @Test func iptablesRedirectIPv4() async throws {
        let outcome = try await InterceptionScenario(
            family: .v4, diversion: .iptablesRedirect(.v4), proxyFlags: ["--upstream", "original-dst"]
        ).run()
        expectInspected(outcome, family: .v4, postfixSees: NamespaceTopology.v4.routerServerSide)
    }

    @Test func ip6tablesRedirectIPv6() async throws {
        let outcome = try await InterceptionScenario(
            family: .v6, diversion: .iptablesRedirect(.v6), proxyFlags: ["--upstream", "original-dst"]
        ).run()
        expectInspected(outcome, family: .v6, postfixSees: NamespaceTopology.v6.routerServerSide)
    }

    /// One `[::]` listener serves two servers (the server's IPv4 and its IPv6 address), each
    /// session audited under the server it went to.
    @Test func nftRedirectOneListenerTwoServers() async throws {
        let outcome = try await InterceptionScenario(
            family: .v6, diversion: .nftRedirect, proxyFlags: ["--upstream", "original-dst"], targets: [.server(.v4), .server(.v6)]
        ).run()
        expectInspected(outcome, family: .v4, postfixSees: NamespaceTopology.v4.routerServerSide)
        expectInspected(outcome, session: 1, family: .v6, postfixSees: NamespaceTopology.v6.routerServerSide)
    }

    @Test(arguments: [NamespaceTopology.Family.v4, .v6])
    func tproxyWithTransparent(family: NamespaceTopology.Family) async throws {
        let outcome = try await InterceptionScenario(family: family, diversion: .tproxy(family), proxyFlags: ["--transparent"]).run()
        expectInspected(outcome, family: family, postfixSees: NamespaceTopology.addresses(family).routerServerSide)
    }

    @Test(arguments: [NamespaceTopology.Family.v4, .v6])
    func nftTproxyWithTransparent(family: NamespaceTopology.Family) async throws {
        let outcome = try await InterceptionScenario(family: family, diversion: .nftTproxy, proxyFlags: ["--transparent"]).run()
        expectInspected(outcome, family: family, postfixSees: NamespaceTopology.addresses(family).routerServerSide)
    }

    /// `--upstream-source client`: the upstream leg leaves from the client's own address, so
    /// Postfix logs (and writes into Received:) the real client, not the router.
    @Test(arguments: [NamespaceTopology.Family.v4, .v6])
    func tproxyUpstreamFromClientAddress(family: NamespaceTopology.Family) async throws {
        let outcome = try await InterceptionScenario(
            family: family, diversion: .tproxy(family), proxyFlags: ["--transparent", "--upstream-source", "client"]
        ).run()
        let client = NamespaceTopology.addresses(family).client
        expectInspected(outcome, family: family, postfixSees: client)
        let delivered = outcome.dialogs.first?.delivered
        #expect(delivered?.contains("[\(family == .v6 ? "IPv6:" : "")\(client)]") == true,
            "Received: names the client's address: \(delivered ?? "nothing delivered")")
    }

    /// The same through one `[::]` listener for both families (nft tproxy): the IPv4 client,
    /// which the IPv6 socket sees as ::ffff:10.77.1.2, still reaches Postfix from 10.77.1.2.
    @Test func nftTproxyUpstreamFromClientAddressOneListenerTwoServers() async throws {
        let outcome = try await InterceptionScenario(
            family: .v6, diversion: .nftTproxy, proxyFlags: ["--transparent", "--upstream-source", "client"],
            targets: [.server(.v4), .server(.v6)]
        ).run()
        expectInspected(outcome, family: .v4, postfixSees: NamespaceTopology.v4.client)
        expectInspected(outcome, session: 1, family: .v6, postfixSees: NamespaceTopology.v6.client)
    }

    /// A connection made straight to the listener, not intercepted: its "original destination"
    /// is the proxy itself. It is refused with 421 and a clear reason; nothing reaches Postfix.
    @Test(arguments: [(false, NamespaceTopology.v4.routerClientSide), (true, "127.0.0.1")])
    func loopGuardRefusesConnectionsToTheListenerItself(fromRouter: Bool, host: String) async throws {
        let outcome = try await InterceptionScenario(
            family: .v4, diversion: .iptablesRedirect(.v4), proxyFlags: ["--upstream", "original-dst"],
            targets: [.listener(inRouter: fromRouter, host: host)]
        ).run()
        let replies = outcome.dialogs.first?.replies ?? []
        #expect(replies.count == 1 && replies.first?.hasPrefix("421 4.4.6 ") == true, "\(outcome.summary)")
        let end = outcome.events.named("session-end").first
        #expect(end?["reason"] as? String == "interception-loop", "\(outcome.summary)")
        #expect(outcome.events.named("session-start").first?["server"] as? String == "\(host):\(InterceptionScenario.proxyPort)")
        #expect(outcome.proxyStandardError.contains("not intercepted"), "the diagnostic says why: \(outcome.proxyStandardError)")
        #expect(!outcome.postfixLog.contains("connect from"), "the proxy made no upstream connection: \(outcome.postfixLog)")
        #expect(outcome.proxyExit == 0)
    }

    /// The session went through the proxy to the server the client asked for, and was inspected.
    /// Session `session` (0: the first) of `outcome` went through the proxy to the server the
    /// client asked for, and was inspected.
    private func expectInspected(
        _ outcome: InterceptionOutcome, session: Int = 0, family: NamespaceTopology.Family, postfixSees source: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard session < outcome.dialogs.count else {
            Issue.record("no session \(session): \(outcome.summary)", sourceLocation: sourceLocation)
            return
        }
        let dialog = outcome.dialogs[session]
        let addresses = NamespaceTopology.addresses(family)
        let server = family == .v4 ? "\(addresses.server):25" : "[\(addresses.server)]:25"
        let replies = dialog.replies
        let codes = replies.map { String($0.prefix(3)) }
        #expect(codes == ["220", "250", "550", "250", "250", "354", "250", "221"], "\(outcome.summary)", sourceLocation: sourceLocation)
        #expect(replies.first?.hasPrefix("220 upstream.test") == true, "Postfix's greeting", sourceLocation: sourceLocation)
        #expect(replies.count > 2 && replies[2].hasPrefix("550 5.7.1 VRFY refused by smtp-inspect"),
            "the proxy refused VRFY", sourceLocation: sourceLocation)

        let starts = outcome.events.named("session-start")
        let start = session < starts.count ? starts[session] : nil
        #expect(start?["server"] as? String == server, "the audit names the intercepted server: \(outcome.summary)",
            sourceLocation: sourceLocation)
        let client = start?["client"] as? String ?? ""
        // An IPv4 client of an IPv6 listener is named as the socket sees it (::ffff:a.b.c.d).
        let clientForms = family == .v4 ? ["\(addresses.client):", "[::ffff:\(addresses.client)]:"] : ["[\(addresses.client)]:"]
        #expect(clientForms.contains { client.hasPrefix($0) }, "\(client)", sourceLocation: sourceLocation)
        let id = start?["session"] as? String
        let vrfy = outcome.events.first { $0["session"] as? String == id && $0["verb"] as? String == "VRFY" }
        #expect(vrfy?["action"] as? String == "reject" && vrfy?["rule"] as? String == "no-vrfy", sourceLocation: sourceLocation)
        #expect(outcome.events.contains { $0["session"] as? String == id && $0["event"] as? String == "session-end" },
            sourceLocation: sourceLocation)

        #expect(dialog.delivered?.contains("body \(dialog.token)") == true, "delivered into Postfix's mailbox: \(outcome.summary)",
            sourceLocation: sourceLocation)
        #expect(outcome.postfixLog.contains("connect from unknown[\(source)]"), "Postfix's client is \(source): \(outcome.postfixLog)",
            sourceLocation: sourceLocation)
        let disconnects = outcome.postfixDisconnects
        #expect(disconnects.count == outcome.dialogs.count && disconnects.allSatisfy { $0.contains("mail=1") && !$0.contains("vrfy") },
            "Postfix never saw VRFY: \(disconnects)", sourceLocation: sourceLocation)
        #expect(outcome.proxyExit == 0, "\(outcome.proxyStandardError)", sourceLocation: sourceLocation)
    }
}
