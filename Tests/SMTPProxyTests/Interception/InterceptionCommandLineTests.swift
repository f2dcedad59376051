import Testing

/// `--upstream original-dst`, `--transparent`, `--upstream-source`: flags that do not fit
/// together are usage errors (one line, exit 2) before anything listens.
@Suite struct InterceptionCommandLineTests {
    @Test(arguments: [
        (["--transparent", "--upstream", "127.0.0.1:25"], "--transparent forwards each connection to its original destination"),
        (["--upstream-source", "client", "--upstream", "original-dst"], "--upstream-source client needs --transparent"),
        (["--upstream-source", "server", "--transparent"], "--upstream-source: expected proxy or client, got 'server'"),
        ([], "--upstream: required"),
        (["--upstream", "original"], "--upstream: expected host:port or original-dst, got 'original'"),
    ])
    func badCombinationsExitTwo(flags: [String], message: String) throws {
        let result = try ProxyProcess.runToExit(["proxy", "--listen", "127.0.0.1:0"] + flags)
        #expect(result.status == 2, "\(result.error)")
        #expect(result.error.contains(message), "\(result.error)")
        #expect(!result.error.contains("listening"))
    }

    @Test func helpExplainsInterception() throws {
        let result = try ProxyProcess.runToExit(["proxy", "--help"])
        #expect(result.status == 0)
        for text in ["original-dst", "--transparent", "TPROXY", "--upstream-source", "CAP_NET_ADMIN"] {
            #expect(result.output.contains(text), "--help mentions \(text)")
        }
    }
}
